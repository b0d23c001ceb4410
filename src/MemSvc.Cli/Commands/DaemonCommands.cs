using System.CommandLine;
using MemSvc.Cli.Infrastructure;
using MemSvc.Cli.Upgrade;

namespace MemSvc.Cli.Commands;

/// <summary><c>memsvcctl daemon upgrade</c>: a live upgrade of the MemSvc on the socket (issue 16's planned handoff).</summary>
internal static class DaemonCommands
{
    public static Command Build(CommandRunner runner, CliEnvironment environment)
    {
        var daemon = new Command("daemon", "The MemSvc process itself");
        var server = new Option<string?>("--server")
        {
            Description = "The new server program (a .dll runs with dotnet); default: the running daemon's own program file, as a package upgrade replaced it",
            HelpName = "FILE",
        };
        var log = new Option<string?>("--log")
        {
            Description = "Append the new process's output to this file; default: where memsvcctl's output goes (the journal under systemd)",
            HelpName = "FILE",
        };
        var timeout = new Option<double>("--timeout")
        {
            Description = "Seconds the new process may take to serve (it is never killed: once it has adopted the VMs that would lose them)",
            DefaultValueFactory = _ => 180,
            HelpName = "SECONDS",
        };
        var upgrade = new Command("upgrade", "Replace the running MemSvc with a new process that takes over its VMs, journals and socket (run as the daemon's user; under systemd: systemctl reload memsvc)")
        {
            server, log, timeout,
        };
        runner.Bind(upgrade, async (context, parse, ct) =>
        {
            var seconds = parse.GetValue(timeout);
            if (seconds <= 0 || double.IsNaN(seconds))
            {
                throw new UsageException("--timeout must be a positive number of seconds");
            }

            var logFile = parse.GetValue(log) is { } path ? Path.GetFullPath(path) : null;
            var settings = new UpgradeSettings(parse.GetValue(server), logFile, TimeSpan.FromSeconds(seconds));
            await new UpgradeRun(context, settings, environment.Variable).RunAsync(ct).ConfigureAwait(false);
        });
        daemon.Subcommands.Add(upgrade);
        return daemon;
    }
}
