using System.Diagnostics.Metrics;
using MemSvc.Contracts.V1;
using MemSvc.Hypervisor.Kvm;
using MemSvc.Server.Hosting;
using MemSvc.Server.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace MemSvc.Server.Tests.Hosting;

/// <summary>
/// What an operator gets from the daemon's configuration: the backend asked for or a loud refusal, the chosen
/// backend visible in GetHostInfo, health and metrics, the socket's group, and no fallback socket in a directory
/// another user controls.
/// </summary>
public sealed class DeploymentDefaultsTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task DefaultBackend_kvm_without_dev_kvm_refuses_to_start_naming_the_error_and_the_fix()
    {
        Assert.SkipWhen(KvmHypervisor.IsAvailable(out _), "/dev/kvm opens here");

        var e = await Assert.ThrowsAnyAsync<InvalidOperationException>(() => RunningServer.StartAsync(("MemSvc:OpenKvm", "true"), ("MemSvc:DefaultBackend", "kvm")));

        Assert.Contains("MemSvc:DefaultBackend is 'kvm'", e.Message, StringComparison.Ordinal);
        Assert.Contains("/dev/kvm", e.Message, StringComparison.Ordinal);
        Assert.Contains("Fix:", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Auto_without_kvm_reports_the_simulated_default_in_host_info_health_and_metrics()
    {
        Assert.SkipWhen(KvmHypervisor.IsAvailable(out _), "/dev/kvm opens here");
        var measured = new List<(int Value, string? Backend, bool? Default)>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Name == "memsvc.server.backends")
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<int>((_, value, tags, _) =>
        {
            var t = tags.ToArray().ToDictionary(p => p.Key, p => p.Value);
            measured.Add((value, t["backend"] as string, t["default"] as bool?));
        });
        listener.Start();
        await using var server = await RunningServer.StartAsync(("MemSvc:OpenKvm", "true"), ("MemSvc:DefaultBackend", "auto"));

        var host = await new Clients(server.LoopbackChannel()).Host.GetHostInfoAsync(new GetHostInfoRequest(), cancellationToken: Ct);
        var health = await server.Services.GetRequiredService<HealthCheckService>().CheckHealthAsync(Ct);
        listener.RecordObservableInstruments();

        Assert.Equal(Backend.Simulated, host.DefaultBackend);
        var core = health.Entries["core"];
        Assert.Equal(("default backend simulated", "simulated"), (core.Description, core.Data["default_backend"]));
        Assert.Contains("/dev/kvm", (string)core.Data["kvm_unavailable"], StringComparison.Ordinal);
        Assert.Contains((1, "simulated", true), measured);
    }

    [Fact]
    public async Task The_socket_gets_the_configured_group()
    {
        var group = PosixFiles.Lstat("/dev/null")!.Value.Gid == 0 ? "65534" : "0";
        await using var server = await RunningServer.StartAsync(("MemSvc:SocketGroup", group));

        Assert.Equal(uint.Parse(group, System.Globalization.CultureInfo.InvariantCulture), PosixFiles.Lstat(server.SocketPath)!.Value.Gid);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.GroupWrite, File.GetUnixFileMode(server.SocketPath));
    }

    [Fact]
    public async Task An_unknown_socket_group_fails_start_up()
    {
        var e = await Assert.ThrowsAnyAsync<Exception>(() => RunningServer.StartAsync(("MemSvc:SocketGroup", "no-such-group-memsvc")));

        Assert.Contains("MemSvc:SocketGroup 'no-such-group-memsvc'", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_fallback_directory_of_another_user_a_symlink_or_writable_by_others_is_refused()
    {
        var root = Directory.CreateTempSubdirectory("memsvc-fallback-").FullName;
        try
        {
            var own = Directory.CreateDirectory(Path.Combine(root, "own"), UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute).FullName;
            var open = Directory.CreateDirectory(Path.Combine(root, "open")).FullName;
            File.SetUnixFileMode(open, (UnixFileMode)0x1FF);
            var link = Path.Combine(root, "link");
            Directory.CreateSymbolicLink(link, own);

            Assert.Null(SocketLocation.UnsafeDirectory(Path.Combine(own, "memsvc.sock")));
            Assert.Null(SocketLocation.UnsafeDirectory(Path.Combine(root, "absent", "memsvc.sock")));
            Assert.Contains("writable by others (mode 777)", SocketLocation.UnsafeDirectory(Path.Combine(open, "memsvc.sock")), StringComparison.Ordinal);
            Assert.Contains("is not a directory", SocketLocation.UnsafeDirectory(Path.Combine(link, "memsvc.sock")), StringComparison.Ordinal);
            if (PosixFiles.EffectiveUserId == 0)
            {
                var foreign = Directory.CreateDirectory(Path.Combine(root, "foreign")).FullName;
                Assert.Equal(0, Chown(foreign, "65534:65534"));
                Assert.Contains("belongs to uid 65534", SocketLocation.UnsafeDirectory(Path.Combine(foreign, "memsvc.sock")), StringComparison.Ordinal);
            }
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    private static int Chown(string path, string owner)
    {
        using var chown = System.Diagnostics.Process.Start("chown", [owner, path]);
        chown.WaitForExit();
        return chown.ExitCode;
    }
}
