using MemSvc.Client.Orchestration;
using MemSvc.Client.Tests.Infrastructure;
using MemSvc.Contracts.V1;
using MemSvc.Testing;

namespace MemSvc.Client.Tests.Orchestration;

/// <summary>The orchestrator helper against ORCHESTRATOR VMs: handlers decide, the helper resolves, bounded.</summary>
public sealed class FaultOrchestratorTests
{
    private const ulong MiB = Memory.MiB;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>A private write to shared memory, a shared write to private memory, a conversion request, and checks.</summary>
    private static GuestProgram Faulting(uint vcpu)
    {
        var page = vcpu * 4096UL;
        var program = new GuestProgram();
        program.Steps.Add(new GuestStep { WritePattern = new WritePatternStep { Gpa = (16 * MiB) + page, Length = 4096, Pattern = 0xa0, Intent = AccessIntent.Private } });
        program.Steps.Add(new GuestStep { WritePattern = new WritePatternStep { Gpa = page, Length = 4096, Pattern = 0xb0, Intent = AccessIntent.Shared } });
        program.Steps.Add(new GuestStep { MapGpaRange = new MapGpaRangeStep { Gpa = (17 * MiB) + page, Pages = 1, ToPrivate = true } });
        program.Steps.Add(new GuestStep { CheckPattern = new CheckPatternStep { Gpa = (16 * MiB) + page, Length = 4096, Pattern = 0xa0, Intent = AccessIntent.Private } });
        program.Steps.Add(new GuestStep { CheckPattern = new CheckPatternStep { Gpa = page, Length = 4096, Pattern = 0xb0, Intent = AccessIntent.Shared } });
        program.Steps.Add(new GuestStep { Halt = new HaltStep() });
        return program;
    }

    private static async Task<Vm> StartFaultingVmAsync(MemSvcClient client, string id, uint vcpus)
    {
        var vm = await Memory.VmWithMemoryAsync(client, id, FaultPolicy.Orchestrator, vcpus);
        await client.Memory.SetMemoryAttributesAsync(vm.Name, 0, 16 * MiB, isPrivate: true, Ct);
        for (uint i = 0; i < vcpus; i++)
        {
            await client.Vcpus.LoadProgramAsync(vm.Name, i, Faulting(i), Ct);
            await client.Vcpus.StartAsync(vm.Name, i, Ct);
        }

        return vm;
    }

    [Fact]
    public async Task Converting_every_fault_with_at_most_two_in_flight_lets_every_vcpu_halt()
    {
        await using var server = await TestServer.StartAsync();
        using var client = MemSvcClient.ForAddress(server.Loopback);
        const uint Vcpus = 4;
        var vm = await StartFaultingVmAsync(client, "orchestrated", Vcpus);
        var inFlight = 0;
        var peak = 0;
        var outcomes = new System.Collections.Concurrent.ConcurrentBag<FaultOutcome>();
        async ValueTask<FaultAction> Decide(FaultContext fault, CancellationToken ct)
        {
            var now = Interlocked.Increment(ref inFlight);
            InterlockedMax(ref peak, now);
            await Task.Delay(5, ct);
            Interlocked.Decrement(ref inFlight);
            return FaultAction.Convert;
        }

        using var stop = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        var orchestrator = new FaultOrchestrator(client, vm.Name) { MaxConcurrency = 2, OnResolved = outcomes.Add }
            .OnMemoryFault(Decide)
            .OnConversionRequest(Decide);
        var running = orchestrator.RunAsync(stop.Token);

        for (uint i = 0; i < Vcpus; i++)
        {
            Assert.Equal(VcpuState.Halted, (await Memory.WaitFinishedAsync(client, vm.Name, i)).State);
        }

        await stop.CancelAsync();
        await running;
        Assert.Equal(3 * (int)Vcpus, outcomes.Count);
        Assert.Equal((int)Vcpus, outcomes.Count(o => o.Fault.IsConversionRequest));
        Assert.All(outcomes, o => Assert.NotNull(o.Response));
        Assert.InRange(peak, 1, 2);
    }

    [Fact]
    public async Task Failing_a_fault_fails_its_vcpu()
    {
        await using var server = await TestServer.StartAsync();
        using var client = MemSvcClient.ForAddress(server.Loopback);
        var vm = await StartFaultingVmAsync(client, "failed", 1);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        var orchestrator = new FaultOrchestrator(client, vm.Name).OnMemoryFault((_, _) => ValueTask.FromResult(FaultAction.Fail));
        var running = orchestrator.RunAsync(stop.Token);

        var vcpu = await Memory.WaitFinishedAsync(client, vm.Name, 0);

        await stop.CancelAsync();
        await running;
        Assert.Equal(VcpuState.Failed, vcpu.State);
    }

    [Fact]
    public async Task A_handler_that_throws_leaves_its_fault_to_the_VMs_fallback_once_logged_and_counted_and_the_run_goes_on()
    {
        await using var server = await TestServer.StartAsync();
        using var client = MemSvcClient.ForAddress(server.Loopback);

        // The broken VM's fault can only end by its fallback (the handler throws); the other's only by the orchestrator.
        // The fallback waits 1 s: with 100 ms it came, on a loaded machine, before the orchestrator had seen the fault.
        var broken = await FaultingVms.CreateAsync(client, "broken", resolutionTimeout: TimeSpan.FromSeconds(1), fallback: FaultAction.Convert);
        var healthy = await FaultingVms.CreateAsync(client, "healthy", resolutionTimeout: TimeSpan.FromMinutes(10));
        var logger = new ListLogger();
        var outcomes = new System.Collections.Concurrent.ConcurrentQueue<FaultOutcome>();
        var calls = new System.Collections.Concurrent.ConcurrentQueue<string>();
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        var orchestrator = new FaultOrchestrator(client) { Logger = logger, OnResolved = outcomes.Enqueue }
            .OnMemoryFault((fault, _) =>
            {
                calls.Enqueue($"{fault.Vm} {fault.FaultId}");
                return fault.Vm == broken.Name ? throw new InvalidOperationException("policy engine down") : ValueTask.FromResult(FaultAction.Convert);
            });
        var running = orchestrator.RunAsync(stop.Token);

        await FaultingVms.StartAsync(client, broken, 1);
        Assert.Equal(VcpuState.Halted, (await Memory.WaitFinishedAsync(client, broken.Name, 0)).State);
        await FaultingVms.StartAsync(client, healthy, 1);
        Assert.Equal(VcpuState.Halted, (await Memory.WaitFinishedAsync(client, healthy.Name, 0)).State);
        await stop.CancelAsync();
        await running;

        Assert.Equal(["vms/broken 1", "vms/healthy 1"], calls);
        Assert.Equal(
            [("vms/broken", FaultOutcomeKind.HandlerFailed), ("vms/healthy", FaultOutcomeKind.Resolved)],
            outcomes.Select(o => (o.Fault.Vm, o.Kind)).Order());
        var failed = outcomes.Single(o => o.Kind == FaultOutcomeKind.HandlerFailed);
        Assert.Equal(("policy engine down", null), (failed.Error!.Message, failed.Action));
        var logged = Assert.Single(logger.Entries, e => e.EventId == 3001);
        Assert.Same(failed.Error, logged.Exception);
        Assert.Equal((2L, 1L, 1L), (orchestrator.Counts.Handled, orchestrator.Counts.Resolved, orchestrator.Counts.HandlerFailures));

        // The fallback, not the orchestrator, resolved the broken VM's fault.
        var resolution = await client.Events.WatchAsync(new Events.WatchOptions { Vm = broken.Name, StartSequence = 1, Kinds = [EventKind.FaultResolved] }, Ct).FirstAsync(Ct);
        Assert.Equal((1UL, true, FaultAction.Convert), (resolution.FaultResolved.FaultId, resolution.FaultResolved.ByFallback, resolution.FaultResolved.Action));
    }

    [Fact]
    public async Task Cancelling_while_a_handler_still_decides_ends_the_run_quietly()
    {
        await using var server = await TestServer.StartAsync();
        using var client = MemSvcClient.ForAddress(server.Loopback);
        var vm = await StartFaultingVmAsync(client, "cancelled", 1);
        var deciding = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        var orchestrator = new FaultOrchestrator(client, vm.Name).OnMemoryFault(async (_, ct) =>
        {
            deciding.TrySetResult();
            await Task.Delay(Timeout.Infinite, ct);
            return FaultAction.Convert;
        });
        var running = orchestrator.RunAsync(stop.Token);

        await deciding.Task.WaitAsync(TimeSpan.FromSeconds(30), Ct);
        await stop.CancelAsync();

        await running.WaitAsync(TimeSpan.FromSeconds(30), Ct);
        Assert.Equal(VcpuState.Waiting, (await client.Vcpus.GetAsync(vm.Name, 0, Ct)).State);
    }

    private static void InterlockedMax(ref int target, int value)
    {
        var current = Volatile.Read(ref target);
        while (value > current)
        {
            var seen = Interlocked.CompareExchange(ref target, value, current);
            if (seen == current)
            {
                return;
            }

            current = seen;
        }
    }
}
