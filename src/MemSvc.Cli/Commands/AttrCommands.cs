using System.CommandLine;
using MemSvc.Cli.Infrastructure;
using MemSvc.Cli.Output;
using MemSvc.Client;
using MemSvc.Contracts.V1;

namespace MemSvc.Cli.Commands;

/// <summary><c>memsvcctl attr set|get</c>: private/shared memory attributes.</summary>
internal static class AttrCommands
{
    public static Command Build(CommandRunner runner)
    {
        var attr = new Command("attr", "Memory attributes (KVM_SET_MEMORY_ATTRIBUTES)");
        attr.Subcommands.Add(Set(runner));
        attr.Subcommands.Add(Get(runner));
        return attr;
    }

    private static Command Set(CommandRunner runner)
    {
        var vm = CliArgs.Vm();
        var gpa = CliArgs.Number("--gpa", "First guest-physical address (page aligned)");
        var size = CliArgs.Number("--size", "Length in bytes (page aligned)");
        var isPrivate = new Option<bool>("--private") { Description = "Make the range private" };
        var isShared = new Option<bool>("--shared") { Description = "Make the range shared (no attribute)" };
        var command = new Command("set", "Set the attributes of a range, without releasing memory (see convert)") { vm, gpa, size, isPrivate, isShared };
        runner.Bind(command, async (context, parse, ct) =>
        {
            if (parse.GetValue(isPrivate) == parse.GetValue(isShared))
            {
                throw new UsageException("give exactly one of --private and --shared");
            }

            var (g, s, p) = (parse.GetValue(gpa), parse.GetValue(size), parse.GetValue(isPrivate));
            await context.Client.Memory.SetMemoryAttributesAsync(parse.GetValue(vm)!, g, s, p, ct).ConfigureAwait(false);
            var request = new SetMemoryAttributesRequest { Vm = Client.ResourceNames.Vm(parse.GetValue(vm)!), Gpa = g, Size = s };
            if (p)
            {
                request.Attributes.Add(MemoryAttribute.Private);
            }

            await context.ReportAsync($"set {Units.Gpa(g)}-{Units.Gpa(g + s)} ({Units.Size(s)}) {(p ? "private" : "shared")}", () => JsonOutput.Node(request)).ConfigureAwait(false);
        });
        return command;
    }

    private static Command Get(CommandRunner runner)
    {
        var vm = CliArgs.Vm();
        var gpa = CliArgs.Number("--gpa", "First guest-physical address; without --size: the whole memory map", required: false);
        var size = CliArgs.Number("--size", "Length in bytes; without it: every memslot", required: false);
        var width = new Option<int>("--width") { Description = "Cells per memslot in the memory map", DefaultValueFactory = _ => MemoryMap.DefaultWidth };
        var command = new Command("get", "Show attributes: the memory map of every memslot, or the runs of one range") { vm, gpa, size, width };
        runner.Bind(command, async (context, parse, ct) =>
        {
            var name = parse.GetValue(vm)!;
            var rangeSize = parse.GetValue(size);
            if (rangeSize == 0)
            {
                if (context.Json)
                {
                    var slots = await MemoryMapView.LoadAsync(context.Client, name, ct).ConfigureAwait(false);
                    await context.Out.WriteLineAsync(JsonOutput.Format(MemoryMapView.Json(name, slots))).ConfigureAwait(false);
                    return;
                }

                await MemoryMapView.WriteAsync(context, name, parse.GetValue(width), ct).ConfigureAwait(false);
                return;
            }

            var ranges = await context.Client.Memory.GetMemoryAttributesAsync(name, parse.GetValue(gpa), rangeSize, ct).ConfigureAwait(false);
            if (context.Json)
            {
                await context.Out.WriteLineAsync(JsonOutput.Array(ranges)).ConfigureAwait(false);
                return;
            }

            var table = new Table("GPA", "END", "SIZE", "ATTRIBUTES");
            foreach (var r in ranges)
            {
                table.Add(Units.Gpa(r.Gpa), Units.Gpa(r.Gpa + r.Size), Units.Size(r.Size), r.Attributes.Contains(MemoryAttribute.Private) ? "private" : "shared");
            }

            await context.Out.WriteAsync(table.Render()).ConfigureAwait(false);
        });
        return command;
    }
}
