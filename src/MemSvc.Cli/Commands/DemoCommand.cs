using System.CommandLine;
using MemSvc.Cli.Demo;
using MemSvc.Cli.Infrastructure;
using MemSvc.Cli.Parsing;
using MemSvc.Contracts.V1;

namespace MemSvc.Cli.Commands;

/// <summary><c>memsvcctl demo</c>: the main flow against a running MemSvc, narrated.</summary>
internal static class DemoCommand
{
    public static Command Build(CommandRunner runner)
    {
        var vmId = new Option<string?>("--vm-id") { Description = "The demo VM's id; default: the server picks one" };
        var backend = CliArgs.Word("--backend", "The demo VM's backend (a default-type kvm VM has no private memory)", EnumWords.Backends, Backend.Simulated);
        var keep = new Option<bool>("--keep") { Description = "Keep the VM afterwards for inspection" };
        var timeout = new Option<double>("--timeout") { Description = "Seconds the vCPUs may run", DefaultValueFactory = _ => 60, HelpName = "SECONDS" };
        var command = new Command("demo", "Run MemSvc's main flow step by step: private memory, faults, conversions, resolution by an orchestrator") { vmId, backend, keep, timeout };
        runner.Bind(command, async (context, parse, ct) =>
        {
            var settings = new DemoSettings(parse.GetValue(vmId), backend.Value(parse), parse.GetValue(keep), TimeSpan.FromSeconds(parse.GetValue(timeout)));
            await new DemoScenario(context, settings).RunAsync(ct).ConfigureAwait(false);
        });
        return command;
    }
}
