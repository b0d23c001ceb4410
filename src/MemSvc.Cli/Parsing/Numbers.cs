using System.Globalization;

namespace MemSvc.Cli.Parsing;

/// <summary>
/// Addresses and sizes as operators write them: decimal (<c>4096</c>), hexadecimal (<c>0x100000000</c>), or with a
/// binary unit (<c>4K</c>, <c>16M</c>, <c>1G</c>, <c>2MiB</c>), with <c>_</c> allowed between digits.
/// </summary>
internal static class Numbers
{
    private static readonly (string Suffix, ulong Factor)[] Units =
    [
        ("KiB", 1UL << 10), ("MiB", 1UL << 20), ("GiB", 1UL << 30), ("TiB", 1UL << 40),
        ("K", 1UL << 10), ("M", 1UL << 20), ("G", 1UL << 30), ("T", 1UL << 40),
    ];

    public static bool TryParse(string text, out ulong value)
    {
        value = 0;
        var s = text.Trim().Replace("_", string.Empty, StringComparison.Ordinal);
        if (s.StartsWith("0x", StringComparison.OrdinalIgnoreCase))
        {
            return s.Length > 2 && ulong.TryParse(s.AsSpan(2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out value);
        }

        var factor = 1UL;
        foreach (var (suffix, unitFactor) in Units)
        {
            if (s.EndsWith(suffix, StringComparison.OrdinalIgnoreCase))
            {
                factor = unitFactor;
                s = s[..^suffix.Length];
                break;
            }
        }

        if (!ulong.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out var number))
        {
            return false;
        }

        var product = (UInt128)number * factor;
        if (product > ulong.MaxValue)
        {
            return false;
        }

        value = (ulong)product;
        return true;
    }

    public static ulong Parse(string text, string what) =>
        TryParse(text, out var value)
            ? value
            : throw new FormatException($"{what}: '{text}' is not a number (decimal, 0x hex, or with K/M/G)");
}
