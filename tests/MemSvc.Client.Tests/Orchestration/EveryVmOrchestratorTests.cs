using System.Collections.Concurrent;
using MemSvc.Client.Orchestration;
using MemSvc.Client.Tests.Infrastructure;
using MemSvc.Contracts.V1;
using MemSvc.Testing;

namespace MemSvc.Client.Tests.Orchestration;

/// <summary>One orchestrator for every VM: one stream, new VMs included, list then watch on every start.</summary>
public sealed class EveryVmOrchestratorTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task One_orchestrator_on_one_stream_serves_VMs_made_after_it_started_and_never_hands_it_an_AUTO_fault()
    {
        // One watcher allowed: an orchestrator that watched VM by VM would be refused at its second VM.
        await using var server = await TestServer.StartAsync(("MemSvc:Quotas:MaxWatchersPerOwner", "1"));
        using var client = MemSvcClient.ForAddress(server.Loopback);
        var outcomes = new ConcurrentQueue<FaultOutcome>();
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        var orchestrator = new FaultOrchestrator(client) { OnResolved = outcomes.Enqueue };
        var running = orchestrator.RunAsync(stop.Token);

        var vms = new List<Vm>();
        for (var i = 0; i < 3; i++)
        {
            vms.Add(await FaultingVms.CreateAsync(client, $"late-{i}"));
        }

        var auto = await FaultingVms.CreateAsync(client, "auto", FaultPolicy.Auto);
        foreach (var vm in vms.Append(auto))
        {
            await FaultingVms.StartAsync(client, vm, 4);
        }

        foreach (var vm in vms.Append(auto))
        {
            Assert.Equal(VcpuState.Halted, (await Memory.WaitFinishedAsync(client, vm.Name, 0)).State);
        }

        await stop.CancelAsync();
        await running;
        Assert.Equal(
            vms.SelectMany(vm => Enumerable.Range(1, 4).Select(id => $"{vm.Name} {vm.Uid} {id} Resolved")).Order(StringComparer.Ordinal),
            outcomes.Select(o => $"{o.Fault.Vm} {o.Fault.VmUid} {o.Fault.FaultId} {o.Kind}").Order(StringComparer.Ordinal));
        Assert.All(outcomes, o => Assert.NotNull(o.Fault.Deadline));
        Assert.Equal(1L, orchestrator.Counts.Listings);
    }

    [Fact]
    public async Task A_restarted_orchestrator_gets_the_faults_still_pending_from_its_listing_and_none_the_first_run_resolved()
    {
        await using var server = await TestServer.StartAsync();
        using var client = MemSvcClient.ForAddress(server.Loopback);
        var vms = new List<Vm>();
        for (var i = 0; i < 3; i++)
        {
            vms.Add(await FaultingVms.CreateAsync(client, $"held-{i}", resolutionTimeout: TimeSpan.FromMinutes(10)));
        }

        // The first run resolves fault 1 of every VM and holds fault 2 in its handler until it is stopped.
        var first = new ConcurrentQueue<string>();
        var holding = 0;
        var allHeld = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var stopFirst = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        var firstRun = new FaultOrchestrator(client) { MaxConcurrency = 8 }.OnMemoryFault(async (fault, ct) =>
        {
            first.Enqueue($"{fault.Vm} {fault.FaultId}");
            if (fault.FaultId == 2)
            {
                if (Interlocked.Increment(ref holding) == vms.Count)
                {
                    allHeld.TrySetResult();
                }

                await Task.Delay(Timeout.Infinite, ct);
            }

            return FaultAction.Convert;
        }).RunAsync(stopFirst.Token);
        foreach (var vm in vms)
        {
            await FaultingVms.StartAsync(client, vm, 3);
        }

        await allHeld.Task.WaitAsync(Ct);
        await stopFirst.CancelAsync();
        await firstRun;

        var second = new ConcurrentQueue<string>();
        using var stopSecond = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        var secondOrchestrator = new FaultOrchestrator(client).OnMemoryFault((fault, _) =>
        {
            second.Enqueue($"{fault.Vm} {fault.FaultId}");
            return ValueTask.FromResult(FaultAction.Convert);
        });
        var secondRun = secondOrchestrator.RunAsync(stopSecond.Token);
        foreach (var vm in vms)
        {
            Assert.Equal(VcpuState.Halted, (await Memory.WaitFinishedAsync(client, vm.Name, 0)).State);
        }

        await stopSecond.CancelAsync();
        await secondRun;
        Assert.Equal(vms.SelectMany(vm => new[] { $"{vm.Name} 1", $"{vm.Name} 2" }).Order(StringComparer.Ordinal), first.Order(StringComparer.Ordinal));
        Assert.Equal(vms.SelectMany(vm => new[] { $"{vm.Name} 2", $"{vm.Name} 3" }).Order(StringComparer.Ordinal), second.Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task A_fault_resolved_elsewhere_while_the_handler_decides_is_reported_once_as_such_and_not_retried()
    {
        await using var server = await TestServer.StartAsync();
        var injector = new FaultInjector();
        var options = new MemSvcClientOptions { Address = server.Loopback };
        options.Interceptors.Add(injector);
        using var client = new MemSvcClient(options);
        var vm = await FaultingVms.CreateAsync(client, "raced", resolutionTimeout: TimeSpan.FromMinutes(10));
        var outcomes = new ConcurrentQueue<FaultOutcome>();
        var reported = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var deciding = new TaskCompletionSource<FaultContext>(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        void Report(FaultOutcome outcome)
        {
            outcomes.Enqueue(outcome);
            reported.TrySetResult();
        }

        var orchestrator = new FaultOrchestrator(client) { OnResolved = Report }.OnMemoryFault(async (fault, ct) =>
        {
            deciding.TrySetResult(fault);
            await release.Task.WaitAsync(ct);
            return FaultAction.Convert;
        });
        var running = orchestrator.RunAsync(stop.Token);
        await FaultingVms.StartAsync(client, vm, 1);

        var fault = await deciding.Task.WaitAsync(Ct);
        await client.Events.ResolveFaultAsync(vm.Name, vm.Uid, fault.FaultId, FaultAction.Convert, Ct);
        release.SetResult();
        await reported.Task.WaitAsync(Ct);
        Assert.Equal(VcpuState.Halted, (await Memory.WaitFinishedAsync(client, vm.Name, 0)).State);
        await stop.CancelAsync();
        await running;

        var outcome = Assert.Single(outcomes);
        Assert.Equal((1UL, FaultOutcomeKind.ResolvedElsewhere, (ResolveFaultResponse?)null), (outcome.Fault.FaultId, outcome.Kind, outcome.Response));
        Assert.Equal(2, injector.Attempts("ResolveFault")); // the test's own call, and the orchestrator's one
        Assert.Equal(1L, orchestrator.Counts.ResolvedElsewhere);
    }
}
