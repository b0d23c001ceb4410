using System.CommandLine;
using System.Text.Json.Nodes;
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
        var vm = new Argument<string?>("vm") { Description = "Only this VM (its id or name); default: every VM you may see, new ones included", Arity = ArgumentArity.ZeroOrOne };
        var action = CliArgs.Word("--action", "What to do with every fault and conversion request", EnumWords.Actions, FaultAction.Convert);
        var parallel = new Option<int>("--max-in-flight") { Description = "Most resolutions at once", DefaultValueFactory = _ => 8 };
        var command = new Command("serve", "Resolve every fault as it comes (of every VM, or of one), until interrupted; lists what is pending first, on every reconnect") { vm, action, parallel };
        runner.Bind(command, async (context, parse, ct) =>
        {
            var chosen = action.Value(parse);
            var output = TextWriter.Synchronized(context.Out);
            var only = parse.GetValue(vm);
            var orchestrator = new FaultOrchestrator(context.Client, only)
            {
                MaxConcurrency = parse.GetValue(parallel),
                OnResolved = o => output.WriteLine(context.Json ? JsonOutput.Line(Json(o)) : Describe(o)),
                OnVmEnded = e => output.WriteLine(context.Json ? JsonOutput.Line(new JsonObject { ["vmEnded"] = JsonOutput.Node(e) }) : $"{e.Vm} ({e.VmUid}) ended: {EnumWords.Kebab(e.Reason)}"),
            };
            orchestrator.OnMemoryFault((_, _) => ValueTask.FromResult(chosen)).OnConversionRequest((_, _) => ValueTask.FromResult(chosen));
            var scope = only is null ? "every VM" : Client.ResourceNames.Vm(only);
            await context.Error.WriteLineAsync($"resolving faults of {scope} with {EnumWords.Kebab(chosen)} (Ctrl-C to stop)").ConfigureAwait(false);
            await orchestrator.RunAsync(ct).ConfigureAwait(false);
            ct.ThrowIfCancellationRequested();
        });
        return command;
    }

    /// <summary>The line of <see cref="Describe"/> as one JSON object: the fault's event, how it ended, and the server's answer.</summary>
    private static JsonObject Json(FaultOutcome o)
    {
        var line = new JsonObject
        {
            ["event"] = JsonOutput.Node(o.Fault.Event),
            ["outcome"] = o.Kind.ToString(),
        };
        if (o.Action is { } action)
        {
            line["action"] = JsonOutput.EnumName(action);
        }

        if (o.Response is { } response)
        {
            line["response"] = JsonOutput.Node(response);
        }

        if (o.Error is { } error)
        {
            line["error"] = error.Message;
        }

        return line;
    }

    /// <summary>One line per fault: which, where, and how it ended.</summary>
    private static string Describe(FaultOutcome o)
    {
        var fault = $"{o.Fault.Vm} fault {o.Fault.FaultId} vcpu={o.Fault.Vcpu} gpa={Units.Hex(o.Fault.Gpa)} size={o.Fault.Size}";
        return o.Kind switch
        {
            FaultOutcomeKind.Resolved when o.Response is { } response => $"{fault}: {EnumWords.Kebab(response.Action)} after {Units.Duration(response.Latency)}",
            FaultOutcomeKind.Resolved => $"{fault}: {EnumWords.Kebab(o.Action!.Value)} (by an earlier attempt whose answer was lost)",
            FaultOutcomeKind.ResolvedElsewhere => $"{fault}: already resolved elsewhere",
            FaultOutcomeKind.TimedOut => $"{fault}: timed out, the VM's fallback applied",
            FaultOutcomeKind.VmGone => $"{fault}: the VM was deleted",
            FaultOutcomeKind.HandlerFailed => $"{fault}: the handler failed ({o.Error!.Message}); the VM's fallback applies",
            _ => $"{fault}: resolving failed ({o.Error?.Message})",
        };
    }
}
