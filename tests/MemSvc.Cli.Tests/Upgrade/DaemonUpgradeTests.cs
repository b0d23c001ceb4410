using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using MemSvc.Cli.Tests.Infrastructure;
using MemSvc.Client;

namespace MemSvc.Cli.Tests.Upgrade;

/// <summary>
/// <c>memsvcctl daemon upgrade</c> against real server processes: it starts the new server with the running one's
/// configuration plus TakeOver, detached, reports old and new instance, and fails with the new process's reason
/// when the handoff is refused, the old one serving on.
/// </summary>
[Collection(nameof(ServerProcesses))]
public sealed partial class DaemonUpgradeTests : IAsyncLifetime
{
    private readonly DirectoryInfo _directory = Directory.CreateTempSubdirectory("memsvc-upgrade-");
    private readonly List<int> _started = [];
    private ServerProcess _old = null!;

    private string Socket => Path.Combine(_directory.FullName, "memsvc.sock");

    private string Log => Path.Combine(_directory.FullName, "upgrade.log");

    private Dictionary<string, string> Environment => new() { ["MEMSVC_SOCKET"] = Socket };

    public async ValueTask InitializeAsync()
    {
        _old = await ServerProcess.StartAsync(_directory.FullName);
        foreach (var id in new[] { "a", "b" })
        {
            var created = await Ctl.RunAsync(Environment, "vm", "create", "--id", id, "--backend", "simulated", "--vcpus", "1");
            Assert.True(created.ExitCode == 0, created.ToString());
        }
    }

    [Fact]
    public async Task Upgrade_starts_a_detached_server_with_the_running_ones_configuration_which_takes_over_its_VMs_and_the_old_one_exits_0()
    {
        using var client = MemSvcClient.ForSocket(Socket);
        var before = await client.Host.GetInfoAsync(TestContext.Current.CancellationToken);

        var result = await Ctl.RunAsync(Environment, TimeSpan.FromSeconds(120), "daemon", "upgrade", "--log", Log);

        Assert.True(result.ExitCode == 0, $"{result}\n--- log\n{File.ReadAllText(Log)}\n--- old (exited: {_old.HasExited})\n{_old.Output}");
        var lines = result.Out.TrimEnd('\n').Split('\n');
        Assert.Equal(4, lines.Length);
        Assert.Equal($"MemSvc pid {_old.Pid} (instance {before.InstanceId}, {before.ServerVersion}) serves 2 VMs on {Socket}", lines[0]);
        var newPid = int.Parse(Assert.Single(StartedLine().Matches(lines[1])).Groups[1].Value, CultureInfo.InvariantCulture);
        _started.Add(newPid);
        Assert.Equal($"started the new MemSvc, pid {newPid}: dotnet {ServerProcess.Dll} (output: {Log}); it asks pid {_old.Pid} for its VMs", lines[1]);
        Assert.Matches($@"^pid {_old.Pid} exited after \d+\.\d\d s \(it does once the new process has adopted its VMs\)$", lines[2]);
        var after = await client.Host.GetInfoAsync(TestContext.Current.CancellationToken);
        Assert.NotEqual(before.InstanceId, after.InstanceId);
        Assert.Matches($@"^upgraded: instance {before.InstanceId} \(pid {_old.Pid}, {Regex.Escape(before.ServerVersion)}\) -> {after.InstanceId} \(pid {newPid}, {Regex.Escape(after.ServerVersion)}\); 2 of 2 VMs of uid {Euid()} kept; \d+\.\d\d s$", lines[3]);
        Assert.Equal(string.Empty, result.Error);

        // The old process handed off (exit 0); the new one runs the same configuration plus TakeOver, in a session
        // of its own, with its output in the log.
        Assert.Equal(0, await _old.ExitCodeAsync());
        Assert.Equal([.. ServerProcess.Arguments(_directory.FullName), "--MemSvc:Handoff:TakeOver=true"], CommandLine(newPid)[2..]);
        Assert.Equal(newPid, SessionId(newPid));
        Assert.Contains($"Took over from the MemSvc of pid {_old.Pid}", File.ReadAllText(Log), StringComparison.Ordinal);
        Assert.Equal(["vms/a", "vms/b"], (await client.Vms.ListPageAsync(cancellationToken: TestContext.Current.CancellationToken)).Vms.Select(v => v.Name).Order());

        // The upgraded daemon upgrades again: its own TakeOver is not passed on twice.
        var again = await Ctl.RunAsync(Environment, TimeSpan.FromSeconds(120), "-o", "json", "daemon", "upgrade", "--log", Log);
        Assert.True(again.ExitCode == 0, again.ToString());
        var report = JsonDocument.Parse(again.Out).RootElement;
        var third = report.GetProperty("newPid").GetInt32();
        _started.Add(third);
        Assert.Equal(newPid, report.GetProperty("oldPid").GetInt32());
        Assert.Equal(after.InstanceId, report.GetProperty("oldInstanceId").GetString());
        Assert.Equal((await client.Host.GetInfoAsync(TestContext.Current.CancellationToken)).InstanceId, report.GetProperty("newInstanceId").GetString());
        Assert.Equal(2, report.GetProperty("vmsBefore").GetInt32());
        Assert.Equal(2, report.GetProperty("vmsAfter").GetInt32());
        Assert.Equal(Euid(), report.GetProperty("vmsOfUid").GetUInt32());
        Assert.False(report.GetProperty("systemdNotified").GetBoolean());
        Assert.Equal([.. ServerProcess.Arguments(_directory.FullName), "--MemSvc:Handoff:TakeOver=true"], CommandLine(third)[2..]);
    }

    [Fact]
    public async Task A_refused_handoff_fails_with_exit_13_and_the_new_process_reason_and_the_old_one_serves_on()
    {
        // A "new release" that models another host: it cannot adopt VMs made under the default profile.
        var server = Path.Combine(_directory.FullName, "memsvc-other-profile");
        await File.WriteAllTextAsync(server, $"#!/bin/sh\nexec dotnet {ServerProcess.Dll} \"$@\" --MemSvc:Simulated:HostProfile=kvm-7.2-debian\n", TestContext.Current.CancellationToken);
        File.SetUnixFileMode(server, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        using var client = MemSvcClient.ForSocket(Socket);
        var before = await client.Host.GetInfoAsync(TestContext.Current.CancellationToken);

        var result = await Ctl.RunAsync(Environment, TimeSpan.FromSeconds(120), "daemon", "upgrade", "--server", server, "--log", Log);

        Assert.Equal(13, result.ExitCode);
        var newPid = int.Parse(Assert.Single(StartedLine().Matches(result.Out)).Groups[1].Value, CultureInfo.InvariantCulture);
        Assert.Matches($@"^upgrade failed: the new MemSvc \(pid {newPid}\) exited 69 after \d+\.\d\d s: the handoff was refused or could not be completed; pid {_old.Pid} serves on\nits output \({Regex.Escape(Log)}\):\n", result.Error);
        Assert.Contains("  | memsvc: cannot start: the handed-off state cannot be adopted", result.Error, StringComparison.Ordinal);
        Assert.Contains("the VM was made under host profile 'default', this server models 'kvm-7.2-debian'", result.Error, StringComparison.Ordinal);
        Assert.EndsWith($"serves on\n", result.Error, StringComparison.Ordinal);

        Assert.False(_old.HasExited);
        Assert.Equal(before.InstanceId, (await client.Host.GetInfoAsync(TestContext.Current.CancellationToken)).InstanceId);
        Assert.Equal(["vms/a", "vms/b"], (await client.Vms.ListPageAsync(cancellationToken: TestContext.Current.CancellationToken)).Vms.Select(v => v.Name).Order());
    }

    [Fact]
    public async Task Run_as_a_units_ExecReload_it_tells_systemd_the_new_main_pid_on_NOTIFY_SOCKET()
    {
        // This test plays systemd's notification socket.
        var notify = Path.Combine(_directory.FullName, "notify");
        using var systemd = new System.Net.Sockets.Socket(System.Net.Sockets.AddressFamily.Unix, System.Net.Sockets.SocketType.Dgram, System.Net.Sockets.ProtocolType.Unspecified);
        systemd.Bind(new System.Net.Sockets.UnixDomainSocketEndPoint(notify));
        var environment = new Dictionary<string, string>(Environment) { ["NOTIFY_SOCKET"] = notify };

        var result = await Ctl.RunAsync(environment, TimeSpan.FromSeconds(120), "daemon", "upgrade", "--log", Log);

        Assert.True(result.ExitCode == 0, $"{result}\n--- old (exited: {_old.HasExited})\n{_old.Output}");
        var newPid = int.Parse(Assert.Single(StartedLine().Matches(result.Out)).Groups[1].Value, CultureInfo.InvariantCulture);
        _started.Add(newPid);
        Assert.EndsWith($"; systemd told MAINPID={newPid}\n", result.Out, StringComparison.Ordinal);
        var message = new byte[1024];
        var length = await systemd.ReceiveAsync(message, TestContext.Current.CancellationToken);
        Assert.Equal($"MAINPID={newPid}\nSTATUS=took over from the previous MemSvc process\n", System.Text.Encoding.ASCII.GetString(message, 0, length));
        Assert.Equal(0, await _old.ExitCodeAsync());
    }

    [Fact]
    public async Task Upgrade_over_an_address_is_a_usage_error()
    {
        var result = await Ctl.RunAsync(new Dictionary<string, string>(), "--address", "http://127.0.0.1:1", "daemon", "upgrade");

        Assert.Equal(2, result.ExitCode);
        Assert.Equal("error: daemon upgrade needs the daemon's Unix socket (--socket or MEMSVC_SOCKET), not --address: the handoff happens beside it\n", result.Error);
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var pid in _started)
        {
            ServerProcess.Kill(pid);
        }

        await _old.DisposeAsync();
        _directory.Delete(recursive: true);
    }

    private static string[] CommandLine(int pid) =>
        File.ReadAllText($"/proc/{pid}/cmdline").Split('\0', StringSplitOptions.RemoveEmptyEntries);

    // Field 6 of /proc/<pid>/stat, after the command name in parentheses.
    private static int SessionId(int pid)
    {
        var stat = File.ReadAllText($"/proc/{pid}/stat");
        return int.Parse(stat[(stat.LastIndexOf(')') + 2)..].Split(' ')[3], CultureInfo.InvariantCulture);
    }

    // The test's own uid as id(1) reports it, which memsvcctl (a child of this process) runs as.
    private static uint Euid()
    {
        using var id = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo("id", "-u") { RedirectStandardOutput = true })!;
        var uid = id.StandardOutput.ReadToEnd().Trim();
        id.WaitForExit();
        return uint.Parse(uid, CultureInfo.InvariantCulture);
    }

    [GeneratedRegex(@"started the new MemSvc, pid (\d+):")]
    private static partial Regex StartedLine();
}
