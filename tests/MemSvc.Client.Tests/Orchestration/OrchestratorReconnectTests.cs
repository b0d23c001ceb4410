using System.Collections.Concurrent;
using MemSvc.Client.Orchestration;
using MemSvc.Client.Tests.Infrastructure;
using MemSvc.Client.Tests.Watch;
using MemSvc.Contracts.V1;
using MemSvc.Testing;

namespace MemSvc.Client.Tests.Orchestration;

/// <summary>One orchestrator run whose connection keeps breaking, or whose daemon restarts under it.</summary>
public sealed class OrchestratorReconnectTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    // The timeout is a hang guard: a fault lost across a reconnect would leave its vCPU waiting forever (no fallback).
    [Fact(Timeout = 120_000)]
    public async Task A_run_whose_stream_keeps_dropping_lists_again_at_every_reconnect_and_hands_each_fault_to_its_handler_once()
    {
        const int Vms = 10;
        const int Faults = 30;
        await using var server = await TestServer.StartAsync(("MemSvc:JournalRetention", "32"));
        using var plain = new MemSvcClient(ResumableWatchTests.Options(server));
        var injector = new FaultInjector { MessagesBeforeDrop = open => 1 + (open * 7919 % 13), MaxStreamDrops = 40 };
        using var client = new MemSvcClient(ResumableWatchTests.Options(server, injector));
        var handled = new ConcurrentDictionary<(string, ulong), int>();
        var outcomes = new ConcurrentQueue<FaultOutcome>();
        var reconnects = 0;
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        var orchestrator = new FaultOrchestrator(client) { OnResolved = outcomes.Enqueue, OnReconnecting = _ => Interlocked.Increment(ref reconnects) }
            .OnMemoryFault((fault, _) =>
            {
                handled.AddOrUpdate((fault.VmUid, fault.FaultId), 1, (_, n) => n + 1);
                return ValueTask.FromResult(FaultAction.Convert);
            });
        var running = orchestrator.RunAsync(stop.Token);
        var vms = new List<Vm>();
        for (var i = 0; i < Vms; i++)
        {
            // No fallback within the test: every fault must be resolved by the orchestrator.
            var vm = await FaultingVms.CreateAsync(plain, $"drop-{i}", resolutionTimeout: TimeSpan.FromMinutes(10));
            await FaultingVms.StartAsync(plain, vm, Faults);
            vms.Add(vm);
        }

        foreach (var vm in vms)
        {
            Assert.Equal(VcpuState.Halted, (await Memory.WaitFinishedAsync(plain, vm.Name, 0)).State);
        }

        await stop.CancelAsync();
        await running;
        Assert.Equal(Vms * Faults, handled.Count);
        Assert.All(handled.Values, n => Assert.Equal(1, n));
        Assert.Equal(Vms * Faults, outcomes.Count(o => o.Kind == FaultOutcomeKind.Resolved));

        // Every dropped stream was a reconnect, and every reconnect began with a listing.
        Assert.NotEqual(0, injector.StreamDrops);
        Assert.Equal(injector.StreamDrops, reconnects);
        Assert.Equal(reconnects + 1, orchestrator.Counts.Listings);
    }

    // The timeout is a hang guard: an orchestrator that gave up on the restarted daemon would never resolve the new VM.
    [Fact(Timeout = 120_000)]
    public async Task An_orchestrator_outlives_a_daemon_restart_and_serves_the_VMs_of_the_new_daemon()
    {
        var socket = Path.Combine(Directory.CreateTempSubdirectory("memsvc-restart-").FullName, "memsvc.sock");
        var options = new MemSvcClientOptions { SocketPath = socket, WatchReconnectBaseDelay = TimeSpan.FromMilliseconds(10), RetryMaxDelay = TimeSpan.FromMilliseconds(100) };
        using var client = new MemSvcClient(options);
        var outcomes = new ConcurrentQueue<string>();
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        var orchestrator = new FaultOrchestrator(client) { OnResolved = o => outcomes.Enqueue($"{o.Fault.Vm} {o.Fault.VmUid} {o.Fault.FaultId} {o.Kind}") };
        Task running;
        Vm before;
        await using (var first = await TestServer.StartAtAsync(socket))
        {
            running = orchestrator.RunAsync(stop.Token);
            before = await FaultingVms.CreateAsync(client, "same-name", resolutionTimeout: TimeSpan.FromMinutes(10));
            await FaultingVms.StartAsync(client, before, 2);
            Assert.Equal(VcpuState.Halted, (await Memory.WaitFinishedAsync(client, before.Name, 0)).State);
        }

        // The daemon is gone (and its VMs with it); it comes back on the same socket, and a VM of the same name faults.
        await using var second = await TestServer.StartAtAsync(socket);
        var after = await FaultingVms.CreateAsync(client, "same-name", resolutionTimeout: TimeSpan.FromMinutes(10));
        await FaultingVms.StartAsync(client, after, 2);
        Assert.Equal(VcpuState.Halted, (await Memory.WaitFinishedAsync(client, after.Name, 0)).State);
        await stop.CancelAsync();
        await running;

        Assert.NotEqual(before.Uid, after.Uid);
        Assert.Equal(
            new[] { $"vms/same-name {before.Uid} 1 Resolved", $"vms/same-name {before.Uid} 2 Resolved", $"vms/same-name {after.Uid} 1 Resolved", $"vms/same-name {after.Uid} 2 Resolved" }.Order(StringComparer.Ordinal),
            outcomes.Order(StringComparer.Ordinal));
    }
}
