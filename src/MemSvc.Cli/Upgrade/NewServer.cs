using System.Diagnostics;

namespace MemSvc.Cli.Upgrade;

/// <summary>
/// The new MemSvc process of an upgrade, started so that it outlives memsvcctl: in a session of its own (setsid: a
/// Ctrl-C or a hang-up of memsvcctl's terminal does not reach it, and once it has adopted the VMs killing it would
/// lose them), standard input from /dev/null, and its output either where memsvcctl's own goes (under systemd's
/// ExecReload= the unit's journal) or appended to a log file. Its parent is memsvcctl until memsvcctl exits, then the
/// nearest subreaper (systemd, or init), as for any daemon; under systemd it stays in the unit's cgroup.
/// </summary>
internal sealed class NewServer : IDisposable
{
    // setsid without --fork execs in place, as the shell is never a process group leader: the pid stays the server's.
    private const string Script = """
        log=$1; shift
        command -v setsid >/dev/null 2>&1 && set -- setsid "$@"
        if [ -n "$log" ]; then exec "$@" </dev/null >>"$log" 2>&1; else exec "$@" </dev/null; fi
        """;

    private readonly Process _process;

    private NewServer(Process process, string command)
    {
        _process = process;
        Command = command;
    }

    public int Pid => _process.Id;

    /// <summary>The program and its arguments, for messages.</summary>
    public string Command { get; }

    /// <summary>The exit code once it has exited; null while it runs.</summary>
    public int? ExitCode => _process.HasExited ? _process.ExitCode : null;

    /// <summary>Starts <paramref name="program"/> with the running daemon's configuration and TakeOver.</summary>
    /// <param name="daemon">The running daemon, whose environment, working directory and arguments it gets.</param>
    /// <param name="program">The program: the daemon's own, or --server's.</param>
    /// <param name="logFile">Where its stdout and stderr are appended; null: memsvcctl's own.</param>
    public static NewServer Start(RunningDaemon daemon, IReadOnlyList<string> program, string? logFile)
    {
        var start = new ProcessStartInfo("/bin/sh") { UseShellExecute = false, WorkingDirectory = daemon.WorkingDirectory };
        start.Environment.Clear();
        foreach (var (name, value) in daemon.Environment)
        {
            start.Environment[name] = value;
        }

        string[] arguments = [.. program, .. daemon.Arguments, "--MemSvc:Handoff:TakeOver=true"];
        foreach (var argument in (string[])["-c", Script, "sh", logFile ?? string.Empty, .. arguments])
        {
            start.ArgumentList.Add(argument);
        }

        var process = Process.Start(start) ?? throw new IOException("/bin/sh did not start");
        return new NewServer(process, string.Join(' ', arguments));
    }

    /// <summary>Forgets the process without ending it: it serves on after memsvcctl exits.</summary>
    public void Dispose() => _process.Dispose();
}
