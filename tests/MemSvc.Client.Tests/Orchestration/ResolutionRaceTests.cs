using System.Collections.Concurrent;
using MemSvc.Client.Orchestration;
using MemSvc.Client.Tests.Infrastructure;
using MemSvc.Contracts.V1;
using MemSvc.Testing;

namespace MemSvc.Client.Tests.Orchestration;

/// <summary>A handler that decides too late: the fault is over, the orchestrator says how, once, and does not retry.</summary>
public sealed class ResolutionRaceTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_fault_whose_deadline_passed_while_the_handler_decided_is_reported_timed_out_once_and_not_retried()
    {
        await using var server = await TestServer.StartAsync();
        var injector = new FaultInjector();
        var options = new MemSvcClientOptions { Address = server.Loopback };
        options.Interceptors.Add(injector);
        using var client = new MemSvcClient(options);
        var vm = await FaultingVms.CreateAsync(client, "slow", resolutionTimeout: TimeSpan.FromMilliseconds(50), fallback: FaultAction.Convert);
        var outcome = new TaskCompletionSource<FaultOutcome>(TaskCreationOptions.RunContinuationsAsynchronously);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        var orchestrator = new FaultOrchestrator(client) { OnResolved = o => outcome.TrySetResult(o) }.OnMemoryFault(async (fault, ct) =>
        {
            // Decides only once the fallback has resolved the fault: its vCPU halts without this orchestrator.
            await Memory.WaitFinishedAsync(client, fault.Vm, fault.Vcpu);
            return FaultAction.Convert;
        });
        var running = orchestrator.RunAsync(stop.Token);
        await FaultingVms.StartAsync(client, vm, 1);

        var ended = await outcome.Task.WaitAsync(Ct);
        await stop.CancelAsync();
        await running;

        Assert.Equal((1UL, FaultOutcomeKind.TimedOut, FaultAction.Convert), (ended.Fault.FaultId, ended.Kind, ended.Action));
        Assert.Equal(1, injector.Attempts("ResolveFault"));
        Assert.Equal((1L, 1L, 0L), (orchestrator.Counts.Handled, orchestrator.Counts.TimedOut, orchestrator.Counts.Resolved));
    }

    [Fact]
    public async Task A_fault_whose_VM_was_deleted_while_the_handler_decided_is_reported_VM_gone()
    {
        await using var server = await TestServer.StartAsync();
        using var client = MemSvcClient.ForAddress(server.Loopback);
        var vm = await FaultingVms.CreateAsync(client, "doomed", resolutionTimeout: TimeSpan.FromMinutes(10));
        var outcomes = new ConcurrentQueue<FaultOutcome>();
        var reported = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var ended = new ConcurrentQueue<VmEnded>();
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        var orchestrator = new FaultOrchestrator(client)
        {
            OnResolved = o =>
            {
                outcomes.Enqueue(o);
                reported.TrySetResult();
            },
            OnVmEnded = ended.Enqueue,
        }
        .OnMemoryFault(async (fault, ct) =>
        {
            await client.Vms.DeleteAsync(fault.Vm, ct);
            return FaultAction.Convert;
        });
        var running = orchestrator.RunAsync(stop.Token);
        await FaultingVms.StartAsync(client, vm, 1);

        await reported.Task.WaitAsync(Ct);
        await stop.CancelAsync();
        await running;

        var outcome = Assert.Single(outcomes);
        Assert.Equal((1UL, vm.Uid, FaultOutcomeKind.VmGone), (outcome.Fault.FaultId, outcome.Fault.VmUid, outcome.Kind));
        Assert.All(ended, e => Assert.Equal((vm.Name, vm.Uid, VmEndReason.Deleted), (e.Vm, e.VmUid, e.Reason)));
    }
}
