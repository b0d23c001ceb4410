using Grpc.Core;
using MemSvc.Client.Events;
using MemSvc.Client.Orchestration;
using MemSvc.Client.Tests.Infrastructure;
using MemSvc.Contracts.V1;
using MemSvc.Testing;

namespace MemSvc.Client.Tests.Diagnostics;

/// <summary>What the SDK logs through <see cref="MemSvcClientOptions.LoggerFactory"/>: retries, watch reconnects, handler failures.</summary>
public sealed class ClientLoggingTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Each_retry_is_logged_once_with_the_call_kind_the_status_and_the_attempt()
    {
        await using var server = await TestServer.StartAsync();
        var injector = new FaultInjector();
        injector.FailBefore("GetHostInfo", StatusCode.Unavailable, StatusCode.DeadlineExceeded);
        var logs = new ListLoggerFactory();
        var options = new MemSvcClientOptions { SocketPath = server.SocketPath, RetryBaseDelay = TimeSpan.FromMilliseconds(1), LoggerFactory = logs };
        options.Interceptors.Add(injector);
        using var client = new MemSvcClient(options);

        await client.Host.GetInfoAsync(Ct);

        var retries = logs.Logger.Entries.Where(e => e.EventId == 3101).Select(e => e.Message[..e.Message.IndexOf(" in ", StringComparison.Ordinal)]);
        Assert.Equal(
            ["retrying a Read call after Unavailable (no ErrorInfo): retry 1", "retrying a Read call after DeadlineExceeded (no ErrorInfo): retry 2"],
            retries);
        Assert.Contains("MemSvc.Client", logs.Categories);
    }

    [Fact]
    public async Task A_call_that_is_not_retried_logs_no_retry()
    {
        await using var server = await TestServer.StartAsync();
        var injector = new FaultInjector();
        injector.FailBefore("StartVcpu", StatusCode.Unavailable);
        var logs = new ListLoggerFactory();
        var options = new MemSvcClientOptions { SocketPath = server.SocketPath, RetryBaseDelay = TimeSpan.FromMilliseconds(1), LoggerFactory = logs };
        options.Interceptors.Add(injector);
        using var client = new MemSvcClient(options);
        await client.Vms.CreateAsync(new CreateVmRequest { VmId = "once", VcpuCount = 1 }, Ct);

        await Assert.ThrowsAsync<MemSvc.Client.Errors.MemSvcException>(() => client.Vcpus.StartAsync("once", 0, Ct));

        Assert.Equal(1, injector.Attempts("StartVcpu"));
        Assert.DoesNotContain(logs.Logger.Entries, e => e.EventId == 3101);
    }

    [Fact]
    public async Task Each_lost_watch_stream_is_logged_with_its_cause_before_the_reconnect()
    {
        await using var server = await TestServer.StartAsync();
        using var plain = MemSvcClient.ForAddress(server.Loopback);
        var vm = await Memory.VmWithMemoryAsync(plain, "watched", FaultPolicy.Auto);
        var injector = new FaultInjector { MessagesBeforeDrop = _ => 2, MaxStreamDrops = 2 };
        var logs = new ListLoggerFactory();
        var options = ResumableWatchTestsOptions(server, injector);
        options.LoggerFactory = logs;
        using var client = new MemSvcClient(options);
        await plain.Vcpus.LoadProgramAsync(vm.Name, 0, Memory.Reporter(10), Ct);
        await plain.Vcpus.StartAsync(vm.Name, 0, Ct);

        var reconnects = 0;
        var watch = new WatchOptions { Vm = vm.Name, StartSequence = 1, OnReconnecting = _ => reconnects++ };
        var received = await client.Events.WatchAsync(watch, Ct).Take(8).CountAsync(Ct);

        Assert.Equal((8, 2, 2), (received, injector.StreamDrops, reconnects));
        var logged = logs.Logger.Entries.Where(e => e.EventId == 3102).Select(e => e.Message[..e.Message.IndexOf(": reconnect", StringComparison.Ordinal)]).ToList();
        Assert.Equal(["event stream of vms/watched lost (Unavailable injected: stream dropped)", "event stream of vms/watched lost (Unavailable injected: stream dropped)"], logged);
    }

    [Fact]
    public async Task A_failing_handler_is_logged_through_the_clients_logger_factory_when_the_orchestrator_has_no_logger()
    {
        await using var server = await TestServer.StartAsync();
        var logs = new ListLoggerFactory();
        using var client = new MemSvcClient(new MemSvcClientOptions { SocketPath = server.SocketPath, LoggerFactory = logs });
        var broken = await FaultingVms.CreateAsync(client, "broken", resolutionTimeout: TimeSpan.FromMilliseconds(100), fallback: FaultAction.Convert);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        var orchestrator = new FaultOrchestrator(client).OnMemoryFault((_, _) => throw new InvalidOperationException("policy engine down"));
        var running = orchestrator.RunAsync(stop.Token);

        await FaultingVms.StartAsync(client, broken, 1);
        Assert.Equal(VcpuState.Halted, (await Memory.WaitFinishedAsync(client, broken.Name, 0)).State);
        await stop.CancelAsync();
        await running;

        var failure = Assert.Single(logs.Logger.Entries, e => e.EventId == 3001);
        Assert.Equal("policy engine down", failure.Exception!.Message);
        Assert.Contains(typeof(FaultOrchestrator).FullName!, logs.Categories);
    }

    private static MemSvcClientOptions ResumableWatchTestsOptions(TestServer server, FaultInjector injector) =>
        Watch.ResumableWatchTests.Options(server, injector);
}
