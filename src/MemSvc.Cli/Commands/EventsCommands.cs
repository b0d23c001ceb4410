using System.CommandLine;
using MemSvc.Cli.Infrastructure;
using MemSvc.Cli.Output;
using MemSvc.Cli.Parsing;
using MemSvc.Client.Events;

namespace MemSvc.Cli.Commands;

/// <summary><c>memsvcctl events watch</c>: follows a journal live, resuming by itself across lost connections.</summary>
internal static class EventsCommands
{
    public static Command Build(CommandRunner runner)
    {
        var events = new Command("events", "VM event journals");
        events.Subcommands.Add(Watch(runner));
        return events;
    }

    private static Command Watch(CommandRunner runner)
    {
        var vm = new Option<string?>("--vm") { Description = "Only this VM (id or name); default: every VM you may see" };
        var from = CliArgs.Number("--from", "First sequence to show; 0: only new events", defaultValue: 0);
        var kinds = CliArgs.Words("--kinds", "Event kinds", EnumWords.EventKinds);
        var vcpus = new Option<uint[]>("--vcpus") { Description = "Only events of these vCPU indexes", AllowMultipleArgumentsPerToken = true, DefaultValueFactory = _ => [] };
        var count = new Option<int>("--count", "-n") { Description = "Stop after this many events; 0: follow until interrupted", DefaultValueFactory = _ => 0 };
        var command = new Command("watch", "Print one line per event (JSON with --output json), following live; reconnects resume after the last event shown")
        {
            vm, from, kinds, vcpus, count,
        };
        runner.Bind(command, async (context, parse, ct) =>
        {
            var limit = parse.GetValue(count);
            var options = new WatchOptions
            {
                Vm = parse.GetValue(vm) is { } name ? Client.ResourceNames.Vm(name) : null,
                StartSequence = parse.GetValue(from),
                Kinds = parse.GetValue(kinds)!,
                Vcpus = parse.GetValue(vcpus)!,
                OnReconnecting = r => context.Error.WriteLine(
                    $"stream lost ({r.Cause?.Message ?? "ended by the server"}); reconnecting from #{r.ResumeFrom} in {Units.Duration(Google.Protobuf.WellKnownTypes.Duration.FromTimeSpan(r.Delay))}"),
            };
            if (!context.Json)
            {
                await context.Error.WriteLineAsync($"watching {options.Vm ?? "every VM"} from {(options.StartSequence == 0 ? "now" : $"#{options.StartSequence}")} (Ctrl-C to stop)").ConfigureAwait(false);
            }

            var shown = 0;
            await foreach (var e in context.Client.Events.WatchAsync(options, ct).ConfigureAwait(false))
            {
                await context.Out.WriteLineAsync(context.Json ? JsonOutput.Line(e) : EventLine.Format(e)).ConfigureAwait(false);
                await context.Out.FlushAsync(ct).ConfigureAwait(false);
                if (limit > 0 && ++shown >= limit)
                {
                    break;
                }
            }
        });
        return command;
    }
}
