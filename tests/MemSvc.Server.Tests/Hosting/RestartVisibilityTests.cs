using System.Globalization;
using System.Text.RegularExpressions;
using MemSvc.Contracts.V1;
using MemSvc.Server.Tests.Infrastructure;
using MemSvc.Server.Tests.Security;
using Microsoft.Extensions.Logging;

namespace MemSvc.Server.Tests.Hosting;

/// <summary>
/// What a client and an operator see of a restart (probe D15) and of the listeners (D14): the server instance and
/// its start time on GetHostInfo and in the log, a stale socket of a killed server reported, and each port described
/// as what it is.
/// </summary>
public sealed partial class RestartVisibilityTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task GetHostInfo_names_the_server_instance_and_its_start_time_and_a_restart_changes_the_instance()
    {
        var before = DateTimeOffset.UtcNow;
        GetHostInfoResponse first;
        await using (var server = await RunningServer.StartAsync())
        {
            first = await new Clients(server.LoopbackChannel()).Host.GetHostInfoAsync(new(), cancellationToken: Ct);
        }

        await using var restarted = await RunningServer.StartAsync();
        var second = await new Clients(restarted.LoopbackChannel()).Host.GetHostInfoAsync(new(), cancellationToken: Ct);

        Assert.Matches(InstanceId(), first.InstanceId);
        Assert.Matches(InstanceId(), second.InstanceId);
        Assert.NotEqual(first.InstanceId, second.InstanceId);
        Assert.InRange(first.StartTime.ToDateTimeOffset(), before, second.StartTime.ToDateTimeOffset());
        Assert.InRange(second.StartTime.ToDateTimeOffset(), first.StartTime.ToDateTimeOffset(), DateTimeOffset.UtcNow);
    }

    [Fact]
    public async Task The_start_up_log_names_the_instance_that_GetHostInfo_reports()
    {
        var log = new LogRecorder(LogLevel.Information);
        await using var server = await RunningServer.StartAsync(builder => builder.Logging.AddProvider(log), ("Logging:LogLevel:Default", "Information"));

        var host = await new Clients(server.LoopbackChannel()).Host.GetHostInfoAsync(new(), cancellationToken: Ct);

        var started = Assert.Single(log.Entries, e => e.EventId == 45);
        Assert.StartsWith($"Server instance {host.InstanceId} started at ", started.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_socket_left_by_a_killed_server_is_replaced_with_a_warning_and_serves()
    {
        await using var killed = await ChildServer.StartAsync(null);
        await killed.KillAsync();
        var socketPath = killed.SocketPath;

        Assert.True(File.Exists(socketPath));
        var log = new LogRecorder(LogLevel.Information);
        await using var server = await RunningServer.StartAsync(builder => builder.Logging.AddProvider(log), ("Logging:LogLevel:Default", "Information"), ("MemSvc:SocketPath", socketPath));

        var host = await new Clients(RunningServer.SocketChannelTo(socketPath)).Host.GetHostInfoAsync(new(), cancellationToken: Ct);

        Assert.Matches(InstanceId(), host.InstanceId);
        var stale = Assert.Single(log.Entries, e => e.EventId == 46);
        Assert.Equal(LogLevel.Warning, stale.Level);
        Assert.Contains(socketPath, stale.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_clean_socket_path_logs_no_stale_socket()
    {
        var log = new LogRecorder(LogLevel.Information);
        await using var server = await RunningServer.StartAsync(builder => builder.Logging.AddProvider(log), ("Logging:LogLevel:Default", "Information"));

        Assert.DoesNotContain(log.Entries, e => e.EventId == 46);
    }

    [Fact]
    public async Task Each_port_is_announced_as_what_it_serves()
    {
        using var certificates = new TestCertificates();
        var log = new LogRecorder(LogLevel.Information);
        var (health, scrape) = (FreePorts.Next(), FreePorts.Next());
        await using var server = await RunningServer.StartAsync(
            builder => builder.Logging.AddProvider(log),
            ("Logging:LogLevel:Default", "Information"),
            ("MemSvc:Tls:Port", "0"),
            ("MemSvc:Tls:CertificatePath", certificates.CertificatePath),
            ("MemSvc:Tls:KeyPath", certificates.KeyPath),
            ("MemSvc:Tls:ClientCaPath", certificates.CaPath),
            ("MemSvc:HealthPort", health.ToString(CultureInfo.InvariantCulture)),
            ("MemSvc:Telemetry:PrometheusPort", scrape.ToString(CultureInfo.InvariantCulture)));

        var lines = log.Entries.Where(e => e.EventId == 3).Select(e => e.Message).Order(StringComparer.Ordinal).ToList();

        var tls = TestCertificates.TlsPort(server);
        Assert.Equal(
            new[]
            {
                $"Listening on http://127.0.0.1:{server.Loopback.Port} (plaintext HTTP/2, loopback only, for development; every caller is the owner 'local')",
                $"Listening on http://[::]:{health} (plaintext HTTP/2, every address, grpc.health.v1 only)",
                $"Listening on http://[::]:{scrape} (plaintext HTTP/1.1, every address, the Prometheus scrape path only)",
                $"Listening on https://[::]:{tls} (HTTP/2 over TLS, every address, a client certificate from MemSvc:Tls:ClientCaPath required)",
            }.Order(StringComparer.Ordinal),
            lines);
    }

    [GeneratedRegex("^[0-9a-f]{32}$")]
    private static partial Regex InstanceId();
}
