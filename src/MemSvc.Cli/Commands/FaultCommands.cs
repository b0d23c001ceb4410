using System.CommandLine;
using MemSvc.Cli.Infrastructure;
using MemSvc.Cli.Output;
using MemSvc.Cli.Parsing;
using MemSvc.Client.Orchestration;
using MemSvc.Contracts.V1;

namespace MemSvc.Cli.Commands;

/// <summary><c>memsvcctl fault resolve|serve</c>: answering the faults of ORCHESTRATOR VMs.</summary>
internal static class FaultCommands
{
    public static Command Build(CommandRunner runner)
    {
        var fault = new Command("fault", "Resolve faults that vCPUs wait on (orchestrator policy)");
        fault.Subcommands.Add(Resolve(runner));
        fault.Subcommands.Add(Serve(runner));
        return fault;
    }

    private static Command Resolve(CommandRunner runner)
    {
        var vm = CliArgs.Vm();
        var id = CliArgs.NumberArgument("fault-id", "The fault's id (from a memory-fault or conversion-requested event)");
        var action = CliArgs.Word<FaultAction>("--action", "What to do", EnumWords.Actions);
        var command = new Command("resolve", "Resolve one fault") { vm, id, action };
        runner.Bind(command, async (context, parse, ct) =>
        {
            var response = await context.Client.Events.ResolveFaultAsync(parse.GetValue(vm)!, parse.GetValue(id), parse.GetValue(action), ct).ConfigureAwait(false);
            await context.Out.WriteLineAsync(context.Json
                ? JsonOutput.Format(response)
                : $"resolved fault {response.FaultId}: {EnumWords.Kebab(response.Action)} after {Units.Duration(response.Latency)}").ConfigureAwait(false);
        });
        return command;
    }

    private static Command Serve(CommandRunner runner)
    {
        var vm = CliArgs.Vm();
        var action = CliArgs.Word("--action", "What to do with every fault and conversion request", EnumWords.Actions, (FaultAction?)FaultAction.Convert);
        var parallel = new Option<int>("--max-in-flight") { Description = "Most resolutions at once", DefaultValueFactory = _ => 8 };
        var from = CliArgs.Number("--from", "First sequence to look at (1 also resolves faults already waiting)", defaultValue: 1);
        var command = new Command("serve", "Resolve every fault of a VM as it comes, until interrupted") { vm, action, parallel, from };
        runner.Bind(command, async (context, parse, ct) =>
        {
            var chosen = parse.GetValue(action);
            var output = TextWriter.Synchronized(context.Out);
            var orchestrator = new FaultOrchestrator(context.Client, parse.GetValue(vm)!)
            {
                MaxConcurrency = parse.GetValue(parallel),
                StartSequence = parse.GetValue(from),
                OnResolved = o => output.WriteLine(
                    $"fault {o.Fault.FaultId} vcpu={o.Fault.Vcpu} gpa={Units.Hex(o.Fault.Gpa)} size={o.Fault.Size}: " +
                    (o.Response is null ? "already resolved" : $"{EnumWords.Kebab(o.Action)} after {Units.Duration(o.Response.Latency)}")),
            }
            .OnMemoryFault((_, _) => ValueTask.FromResult(chosen))
            .OnConversionRequest((_, _) => ValueTask.FromResult(chosen));
            await context.Error.WriteLineAsync($"resolving faults of {Client.ResourceNames.Vm(parse.GetValue(vm)!)} with {EnumWords.Kebab(chosen)} (Ctrl-C to stop)").ConfigureAwait(false);
            await orchestrator.RunAsync(ct).ConfigureAwait(false);
            ct.ThrowIfCancellationRequested();
        });
        return command;
    }
}
