using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using Grpc.Core;
using MemSvc.Cli.Infrastructure;
using MemSvc.Client;
using MemSvc.Client.Errors;

namespace MemSvc.Cli.Upgrade;

/// <summary>
/// One live upgrade, from memsvcctl's side: note who serves, start the new process beside it with its configuration
/// plus TakeOver, and follow the handoff until the new process answers on the socket as another instance (it
/// listens only after the old one has exited), or until the new process exits, refused, with the old one serving on.
/// </summary>
internal sealed class UpgradeRun(CliContext context, UpgradeSettings settings, Func<string, string?> variable)
{
    private static readonly TimeSpan Poll = TimeSpan.FromMilliseconds(20);

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        var socketPath = context.ClientOptions.SocketPath
            ?? throw new UsageException("daemon upgrade needs the daemon's Unix socket (--socket or MEMSVC_SOCKET), not --address: the handoff happens beside it");
        var before = await context.Client.Host.GetInfoAsync(cancellationToken).ConfigureAwait(false);
        var vmsBefore = await CountVmsAsync(context.Client, cancellationToken).ConfigureAwait(false);
        var old = RunningDaemon.Find(socketPath);
        await ProgressAsync($"MemSvc pid {old.Pid} (instance {before.InstanceId}, {before.ServerVersion}) serves {vmsBefore} VMs on {socketPath}").ConfigureAwait(false);

        var program = settings.Server is null ? old.Program : ProgramFor(settings.Server);
        var logOffset = settings.LogFile is { } log && File.Exists(log) ? new FileInfo(log).Length : 0;
        var started = Stopwatch.StartNew();
        using var server = NewServer.Start(old, program, settings.LogFile);
        await ProgressAsync($"started the new MemSvc, pid {server.Pid}: {string.Join(' ', program)} (output: {settings.LogFile ?? "memsvcctl's"}); it asks pid {old.Pid} for its VMs").ConfigureAwait(false);

        using var probe = new MemSvcClient(new MemSvcClientOptions { SocketPath = socketPath, SocketServerUid = context.ClientOptions.SocketServerUid, DefaultDeadline = TimeSpan.FromSeconds(2), MaxRetryAttempts = 1 });
        var oldGone = false;
        while (true)
        {
            if (server.ExitCode is { } code)
            {
                await FailAsync(server, code, old, logOffset, started.Elapsed, cancellationToken).ConfigureAwait(false);
            }

            if (!oldGone && !RunningDaemon.IsAlive(old.Pid))
            {
                oldGone = true;
                await ProgressAsync($"pid {old.Pid} exited after {Seconds(started.Elapsed)} (it does once the new process has adopted its VMs)").ConfigureAwait(false);
            }

            if (oldGone && await InstanceAsync(probe, cancellationToken).ConfigureAwait(false) is { } after && after.InstanceId != before.InstanceId)
            {
                var vmsAfter = await CountVmsAsync(probe, cancellationToken).ConfigureAwait(false);
                var took = started.Elapsed;
                var notified = SystemdNotify.MainPid(variable("NOTIFY_SOCKET"), server.Pid);
                await ReportAsync(old.Pid, before, server.Pid, after, vmsBefore, vmsAfter, took, notified).ConfigureAwait(false);
                if (vmsAfter != vmsBefore)
                {
                    throw new CheckFailedException($"the new MemSvc serves {vmsAfter} VMs, the old one served {vmsBefore}");
                }

                return;
            }

            if (started.Elapsed > settings.Timeout)
            {
                // Not killed: once it has adopted the VMs, ending it would lose them.
                throw new UpgradeFailedException($"the new MemSvc (pid {server.Pid}) does not serve after {Seconds(settings.Timeout)}; it is left running ({(oldGone ? "the old one has exited" : $"pid {old.Pid} serves on")}): see its output");
            }

            await Task.Delay(Poll, cancellationToken).ConfigureAwait(false);
        }
    }

    private static IReadOnlyList<string> ProgramFor(string server)
    {
        var path = Path.GetFullPath(server);
        if (!File.Exists(path))
        {
            throw new UsageException($"--server {server}: no such file");
        }

        return path.EndsWith(".dll", StringComparison.OrdinalIgnoreCase) ? ["dotnet", path] : [path];
    }

    private static async Task<Contracts.V1.GetHostInfoResponse?> InstanceAsync(MemSvcClient probe, CancellationToken cancellationToken)
    {
        try
        {
            return await probe.Host.GetInfoAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (MemSvcException e) when (e.StatusCode is StatusCode.Unavailable or StatusCode.DeadlineExceeded)
        {
            // Between the old process's exit and the new one's listening, or refused HANDOFF_IN_PROGRESS before.
            return null;
        }
    }

    private static async Task<int> CountVmsAsync(MemSvcClient client, CancellationToken cancellationToken)
    {
        var count = 0;
        await foreach (var _ in client.Vms.ListAsync(cancellationToken).ConfigureAwait(false))
        {
            count++;
        }

        return count;
    }

    private async Task FailAsync(NewServer server, int code, RunningDaemon old, long logOffset, TimeSpan elapsed, CancellationToken cancellationToken)
    {
        var why = settings.LogFile is { } log ? await LogTailAsync(log, logOffset, cancellationToken).ConfigureAwait(false) : "its reason is in its output above";
        var meaning = code switch
        {
            69 => "the handoff was refused or could not be completed",
            73 => "a listener could not be created",
            78 => "its configuration was refused",
            _ => "it failed",
        };
        var oldState = RunningDaemon.IsAlive(old.Pid)
            ? $"pid {old.Pid} serves on"
            : $"pid {old.Pid} has exited too: its VMs are lost, as after a crash";
        throw new UpgradeFailedException($"the new MemSvc (pid {server.Pid}) exited {code} after {Seconds(elapsed)}: {meaning}; {oldState}\n{why}");
    }

    // What the new process wrote to the log file since it started: its reason ("memsvc: cannot start: ...") is last.
    private static async Task<string> LogTailAsync(string path, long offset, CancellationToken cancellationToken)
    {
        await using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        file.Seek(offset, SeekOrigin.Begin);
        using var reader = new StreamReader(file);
        var lines = (await reader.ReadToEndAsync(cancellationToken).ConfigureAwait(false)).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        return $"its output ({path}):\n" + string.Join('\n', lines.TakeLast(20).Select(l => "  | " + l));
    }

    private Task ProgressAsync(string line) => context.Json ? Task.CompletedTask : context.Out.WriteLineAsync(line);

    private Task ReportAsync(int oldPid, Contracts.V1.GetHostInfoResponse before, int newPid, Contracts.V1.GetHostInfoResponse after, int vmsBefore, int vmsAfter, TimeSpan took, bool notified) =>
        context.ReportAsync(
            $"upgraded: instance {before.InstanceId} (pid {oldPid}, {before.ServerVersion}) -> {after.InstanceId} (pid {newPid}, {after.ServerVersion}); {vmsAfter} of {vmsBefore} VMs of uid {Caller.EffectiveUid} kept; {Seconds(took)}{(notified ? "; systemd told MAINPID=" + newPid.ToString(CultureInfo.InvariantCulture) : string.Empty)}",
            () => new JsonObject
            {
                ["oldPid"] = oldPid,
                ["oldInstanceId"] = before.InstanceId,
                ["oldVersion"] = before.ServerVersion,
                ["newPid"] = newPid,
                ["newInstanceId"] = after.InstanceId,
                ["newVersion"] = after.ServerVersion,
                ["vmsBefore"] = vmsBefore,
                ["vmsAfter"] = vmsAfter,
                ["vmsOfUid"] = Caller.EffectiveUid,
                ["seconds"] = Math.Round(took.TotalSeconds, 3),
                ["systemdNotified"] = notified,
            });

    private static string Seconds(TimeSpan time) => time.TotalSeconds.ToString("0.00", CultureInfo.InvariantCulture) + " s";
}
