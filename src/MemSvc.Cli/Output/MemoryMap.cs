using System.Text;
using MemSvc.Contracts.V1;

namespace MemSvc.Cli.Output;

/// <summary>
/// A VM's guest-physical memory as a picture: one bar per memslot, each cell a fixed share of the slot, drawn
/// '#' where all of it is private, '.' all shared, '+' mixed, ' ' unbacked (backing revoked); then the exact
/// ranges, including the holes between memslots. Colours (ANSI) only when asked for.
/// </summary>
internal static class MemoryMap
{
    public const int DefaultWidth = 64;

    private const string Reset = "\u001b[0m";

    /// <summary>One memslot and the attribute runs that cover it exactly.</summary>
    public sealed record Slot(MemoryRegion Region, IReadOnlyList<AttributeRange> Ranges);

    public static string Render(string vm, IReadOnlyList<Slot> slots, int width, bool color)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(width, 1);
        var text = new StringBuilder();
        var total = slots.Aggregate(0UL, (sum, s) => sum + s.Region.Size);
        text.Append($"memory map of {vm}: {slots.Count} memslot{(slots.Count == 1 ? string.Empty : "s")}, {Units.Size(total)}")
            .Append("  (# private  . shared  + mixed  ' ' unbacked)\n");
        if (slots.Count == 0)
        {
            return text.Append("  no memslots\n").ToString();
        }

        var ordered = slots.OrderBy(s => s.Region.Gpa).ToList();
        var label = ordered.Max(s => s.Region.Slot.ToString(System.Globalization.CultureInfo.InvariantCulture).Length);
        var sizeWidth = ordered.Max(s => Units.Size(s.Region.Size).Length);
        foreach (var slot in ordered)
        {
            var r = slot.Region;
            text.Append("slot ").Append(r.Slot.ToString(System.Globalization.CultureInfo.InvariantCulture).PadRight(label))
                .Append("  ").Append(Units.Gpa(r.Gpa)).Append('-').Append(Units.Gpa(r.Gpa + r.Size))
                .Append("  ").Append(Units.Size(r.Size).PadLeft(sizeWidth))
                .Append("  |").Append(Bar(slot, width, color)).Append("|\n");
        }

        text.Append("ranges:\n");
        ulong? previousEnd = null;
        foreach (var slot in ordered)
        {
            if (previousEnd is { } end && end < slot.Region.Gpa)
            {
                AppendRange(text, end, slot.Region.Gpa - end, "unbacked", "no memslot");
            }

            foreach (var range in Runs(slot))
            {
                AppendRange(text, range.Gpa, range.Size, range.Kind.ToString().ToLowerInvariant(), $"slot {slot.Region.Slot}");
            }

            previousEnd = slot.Region.Gpa + slot.Region.Size;
        }

        return text.ToString();
    }

    private enum Kind
    {
        Private,
        Shared,
        Unbacked,
    }

    private sealed record Run(ulong Gpa, ulong Size, Kind Kind);

    private static void AppendRange(StringBuilder text, ulong gpa, ulong size, string kind, string where) =>
        text.Append("  ").Append(Units.Gpa(gpa)).Append('-').Append(Units.Gpa(gpa + size))
            .Append("  ").Append(Units.Size(size).PadLeft(10)).Append("  ").Append(kind.PadRight(8)).Append(' ').Append(where).Append('\n');

    /// <summary>The slot's runs clipped to it, merged where neighbours agree; a revoked slot is one unbacked run.</summary>
    private static List<Run> Runs(Slot slot)
    {
        var r = slot.Region;
        if (r.BackingRevoked)
        {
            return [new Run(r.Gpa, r.Size, Kind.Unbacked)];
        }

        var runs = new List<Run>();
        foreach (var range in slot.Ranges.OrderBy(a => a.Gpa))
        {
            var start = Math.Max(range.Gpa, r.Gpa);
            var end = Math.Min(range.Gpa + range.Size, r.Gpa + r.Size);
            if (start >= end)
            {
                continue;
            }

            var kind = range.Attributes.Contains(MemoryAttribute.Private) ? Kind.Private : Kind.Shared;
            if (runs.Count > 0 && runs[^1].Kind == kind && runs[^1].Gpa + runs[^1].Size == start)
            {
                runs[^1] = runs[^1] with { Size = runs[^1].Size + (end - start) };
            }
            else
            {
                runs.Add(new Run(start, end - start, kind));
            }
        }

        return runs;
    }

    private static string Bar(Slot slot, int width, bool color)
    {
        var runs = Runs(slot);
        var r = slot.Region;
        var cells = new char[width];
        for (var i = 0; i < width; i++)
        {
            // UInt128: size * i overflows 64 bits for slots near the top of the address space.
            var start = r.Gpa + (ulong)((UInt128)r.Size * (ulong)i / (ulong)width);
            var end = r.Gpa + (ulong)((UInt128)r.Size * (ulong)(i + 1) / (ulong)width);
            var kinds = runs.Where(run => run.Gpa < end && run.Gpa + run.Size > start).Select(run => run.Kind).Distinct().ToList();
            cells[i] = kinds.Count switch
            {
                0 => ' ',
                1 => kinds[0] switch { Kind.Private => '#', Kind.Shared => '.', _ => ' ' },
                _ => kinds.Contains(Kind.Private) ? '+' : '.',
            };
        }

        return color ? Colorize(cells) : new string(cells);
    }

    private static string Colorize(char[] cells)
    {
        var text = new StringBuilder();
        var i = 0;
        while (i < cells.Length)
        {
            var j = i;
            while (j < cells.Length && cells[j] == cells[i])
            {
                j++;
            }

            var code = cells[i] switch { '#' => "\u001b[45m", '.' => "\u001b[42m", '+' => "\u001b[43m", _ => string.Empty };
            text.Append(code).Append(cells[i], j - i).Append(code.Length > 0 ? Reset : string.Empty);
            i = j;
        }

        return text.ToString();
    }
}
