using System.CommandLine;
using System.Globalization;
using MemSvc.Cli.Infrastructure;
using MemSvc.Cli.Output;
using MemSvc.Cli.Parsing;
using MemSvc.Contracts.V1;

namespace MemSvc.Cli.Commands;

/// <summary><c>memsvcctl vcpu load|start|pause|get|list</c>.</summary>
internal static class VcpuCommands
{
    public static Command Build(CommandRunner runner)
    {
        var vcpu = new Command("vcpu", "vCPUs and their guest programs");
        vcpu.Subcommands.Add(Load(runner));
        vcpu.Subcommands.Add(One(runner, "start", "Run a READY vCPU's program, or resume a PAUSED one", (c, vm, i, ct) => c.Client.Vcpus.StartAsync(vm, i, ct)));
        vcpu.Subcommands.Add(One(runner, "pause", "Pause a RUNNING or WAITING vCPU at its next exit", (c, vm, i, ct) => c.Client.Vcpus.PauseAsync(vm, i, ct)));
        vcpu.Subcommands.Add(One(runner, "get", "Show a vCPU", (c, vm, i, ct) => c.Client.Vcpus.GetAsync(vm, i, ct)));
        vcpu.Subcommands.Add(List(runner));
        return vcpu;
    }

    public static string Table(IEnumerable<Vcpu> vcpus)
    {
        var table = new Table("VCPU", "STATE", "PROGRAM", "LAST_EXIT", "EXITS", "WAITING_ON", "REASON");
        foreach (var v in vcpus)
        {
            var exits = v.ExitCounts.Count == 0
                ? "-"
                : string.Join(",", v.ExitCounts.Select(e => $"{EnumWords.Kebab(e.Reason)}={e.Count.ToString(CultureInfo.InvariantCulture)}"));
            table.Add(v.Index.ToString(CultureInfo.InvariantCulture), EnumWords.Kebab(v.State), v.ProgramLoaded ? "loaded" : "-",
                v.LastExit == VcpuExitReason.Unspecified ? "-" : EnumWords.Kebab(v.LastExit), exits,
                v.PendingFaultId == 0 ? "-" : $"fault {v.PendingFaultId.ToString(CultureInfo.InvariantCulture)}",
                string.IsNullOrEmpty(v.StateReason) ? "-" : v.StateReason);
        }

        return table.Render();
    }

    private static Command Load(CommandRunner runner)
    {
        var vm = CliArgs.Vm();
        var index = CliArgs.Index("index", "The vCPU's index");
        var program = new Option<FileInfo?>("--program", "-f") { Description = "A guest program file: the step language of README.md, or GuestProgram JSON" };
        var steps = new Option<string?>("--steps", "-s") { Description = "The program inline: \"write 0x1000 4096 0xaa private; check 0x1000 4096 0xaa private; halt\"" };
        var command = new Command("load", "Load a guest program on a vCPU that is not running") { vm, index, program, steps };
        runner.Bind(command, async (context, parse, ct) =>
        {
            var (file, inline) = (parse.GetValue(program), parse.GetValue(steps));
            if ((file is null) == (inline is null))
            {
                throw new UsageException("give exactly one of --program and --steps");
            }

            GuestProgram parsed;
            try
            {
                parsed = GuestProgramParser.Parse(inline ?? await File.ReadAllTextAsync(file!.FullName, ct).ConfigureAwait(false));
            }
            catch (FormatException e)
            {
                throw new UsageException(e.Message, e);
            }

            var loaded = await context.Client.Vcpus.LoadProgramAsync(parse.GetValue(vm)!, parse.GetValue(index), parsed, ct).ConfigureAwait(false);
            await context.Out.WriteAsync(context.Json ? JsonOutput.Format(loaded) + "\n" : Table([loaded])).ConfigureAwait(false);
        });
        return command;
    }

    private static Command One(CommandRunner runner, string verb, string description, Func<CliContext, string, uint, CancellationToken, Task<Vcpu>> call)
    {
        var vm = CliArgs.Vm();
        var index = CliArgs.Index("index", "The vCPU's index");
        var command = new Command(verb, description) { vm, index };
        runner.Bind(command, async (context, parse, ct) =>
        {
            var vcpu = await call(context, parse.GetValue(vm)!, parse.GetValue(index), ct).ConfigureAwait(false);
            await context.Out.WriteAsync(context.Json ? JsonOutput.Format(vcpu) + "\n" : Table([vcpu])).ConfigureAwait(false);
        });
        return command;
    }

    private static Command List(CommandRunner runner)
    {
        var vm = CliArgs.Vm();
        var command = new Command("list", "List a VM's vCPUs") { vm };
        runner.Bind(command, async (context, parse, ct) =>
        {
            var vcpus = await context.Client.Vcpus.ListAsync(parse.GetValue(vm)!, ct).ToListAsync(ct).ConfigureAwait(false);
            await context.Out.WriteAsync(context.Json ? JsonOutput.Array(vcpus) + "\n" : Table(vcpus)).ConfigureAwait(false);
        });
        return command;
    }
}
