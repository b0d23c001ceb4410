using MemSvc.Core.Errors;
using MemSvc.Core.Events;
using MemSvc.Core.Faults;
using MemSvc.Core.Vcpus;
using MemSvc.Hypervisor;
using static MemSvc.Core.Tests.Flows.ConversionFlow;
using static MemSvc.Core.Tests.Support.Core;

namespace MemSvc.Core.Tests.Flows;

public class OrchestratorFlowTests
{
    [Fact]
    public async Task A_remote_orchestrator_resolves_every_fault_and_both_vcpus_halt_with_their_data_checked()
    {
        await using var manager = Manager();
        SetUp(manager, "flow", FaultPolicy.Orchestrator);

        // The resolver watches from the start and converts each fault as it arrives.
        var resolver = Until(manager.Events.WatchEvents(Alice, "flow", 1, cancellationToken: Ct), events =>
        {
            var faultId = FaultIds([events[^1]]).SingleOrDefault();
            if (faultId != 0)
            {
                var resolution = manager.Events.ResolveFault(Alice, "flow", faultId, FaultAction.Convert);
                Assert.Equal(FaultAction.Convert, resolution.Action);
            }

            return AllFinished(events, 2);
        });
        manager.Vcpus.StartVcpu(Alice, "flow", 0);
        manager.Vcpus.StartVcpu(Alice, "flow", 1);
        var events = await resolver;

        for (var i = 0; i < 2; i++)
        {
            var info = manager.Vcpus.GetVcpu(Alice, "flow", i);
            Assert.Equal(VcpuState.Halted, info.State);
            Assert.Equal(2, info.ExitCounts[VcpuExitKind.MemoryFault]);
            Assert.Equal(2, info.ExitCounts[VcpuExitKind.Hypercall]);
            Assert.Equal(0UL, info.CurrentFaultId);
            AssertVcpuStory(events, i);
        }

        Assert.Equal(Enumerable.Range(1, 8).Select(i => (ulong)i), FaultIds(events).Order());
        Assert.Equal(Enumerable.Range(1, events.Count).Select(i => (ulong)i), events.Select(e => e.Sequence));
        Assert.Equal(ExpectedAttributes(), manager.Memory.GetMemoryAttributes(Alice, "flow", Base, 64 * M));
        Assert.Equal(Enumerable.Repeat((byte)0xb1, (int)K4), manager.Memory.ReadGuestMemory(Alice, "flow", PrivatePage(1), K4));
        Assert.Equal(new byte[K4], manager.Memory.ReadGuestMemory(Alice, "flow", SharedPage(0), K4));
        var refused = Assert.Throws<CoreException>(() => manager.Memory.ReadGuestMemory(Alice, "flow", SharedPage(0) + K4, 16));
        Assert.Equal(ErrorReasons.MemoryIsPrivate, refused.Reason);

        // Someone who comes later reads the same history from sequence 1.
        var late = await Until(manager.Events.WatchEvents(Alice, "flow", 1, cancellationToken: Ct), e => e.Count == events.Count);
        Assert.Equal(events, late);
    }

    [Fact]
    public async Task Without_a_resolver_the_timeout_fallback_applies_and_is_recorded()
    {
        await using var manager = Manager();
        SetUp(manager, "lonely", FaultPolicy.Orchestrator, TimeSpan.FromMilliseconds(200), FaultAction.Convert);
        var watch = Until(manager.Events.WatchEvents(Alice, "lonely", 1, cancellationToken: Ct), e => AllFinished(e, 2));
        manager.Vcpus.StartVcpu(Alice, "lonely", 0);
        manager.Vcpus.StartVcpu(Alice, "lonely", 1);
        var events = await watch;

        var resolved = events.Select(e => e.Payload).OfType<EventPayload.FaultResolved>().ToList();
        Assert.Equal(8, resolved.Count);
        Assert.All(resolved, r => Assert.True(r.ByFallback));
        Assert.All(resolved, r => Assert.Equal(FaultAction.Convert, r.Action));
        var applied = events.Select(e => e.Payload).OfType<EventPayload.ConversionApplied>().ToList();
        Assert.Equal(8, applied.Count);
        Assert.All(applied, a => Assert.Equal(ConversionInitiator.Fallback, a.Initiator));
        Assert.Equal(FaultIds(events).Order(), resolved.Select(r => r.FaultId).Order());
        Assert.Equal(VcpuState.Halted, manager.Vcpus.GetVcpu(Alice, "lonely", 0).State);
        Assert.Equal(ExpectedAttributes(), manager.Memory.GetMemoryAttributes(Alice, "lonely", Base, 64 * M));

        // A resolution that comes after the fallback is refused, saying the fallback was applied.
        var late = Assert.Throws<CoreException>(() => manager.Events.ResolveFault(Alice, "lonely", 1, FaultAction.Convert));
        Assert.Equal((ErrorKind.FailedPrecondition, ErrorReasons.FaultTimedOut, "fault_id"), (late.Kind, late.Reason, late.Field));
        Assert.Equal(new Dictionary<string, string> { ["fault_id"] = "1", ["action"] = "CONVERT" }, late.Metadata);
    }

    [Fact]
    public async Task A_FAIL_fallback_fails_the_vcpu_with_the_fault_named()
    {
        await using var manager = Manager();
        SetUp(manager, "failing", FaultPolicy.Orchestrator, TimeSpan.FromMilliseconds(100), FaultAction.Fail);
        var watch = Until(manager.Events.WatchEvents(Alice, "failing", 1, cancellationToken: Ct), e => AllFinished(e, 1));
        manager.Vcpus.StartVcpu(Alice, "failing", 0);
        var events = await watch;

        var info = manager.Vcpus.GetVcpu(Alice, "failing", 0);
        Assert.Equal(VcpuState.Failed, info.State);
        Assert.Equal("fault 1 failed by the timeout fallback", info.Reason);
        var resolved = Assert.Single(events.Select(e => e.Payload).OfType<EventPayload.FaultResolved>());
        Assert.Equal(new EventPayload.FaultResolved(1, FaultAction.Fail, true, resolved.LatencyNanoseconds, 0), resolved);
        Assert.Empty(events.Select(e => e.Payload).OfType<EventPayload.ConversionApplied>());
    }

    [Fact]
    public async Task ResolveFault_refuses_unknown_ids_resolved_ids_bad_actions_and_RETRY_of_a_conversion_request()
    {
        await using var manager = Manager();
        manager.Vms.CreateVm(Alice, new() { VmId = "req", VmType = VmType.SwProtected, FaultPolicy = FaultPolicy.Orchestrator, ResolutionTimeout = TimeSpan.FromMinutes(5) });
        var memfd = manager.GuestMemfds.CreateGuestMemfd(Alice, "req", 2 * M, GuestMemfdFlags.None);
        manager.MemoryRegions.SetMemoryRegion(Alice, "req", new() { Slot = 0, Gpa = Base, Size = 2 * M, Flags = MemoryRegionFlags.GuestMemfd, GuestMemfdId = memfd.Id });
        manager.Vcpus.LoadGuestProgram(Alice, "req", 0, Program(GuestStep.MapGpaRange.ToPrivate(Base, 1), new GuestStep.Halt()));
        var watch = Until(manager.Events.WatchEvents(Alice, "req", 1, cancellationToken: Ct), e => e[^1].Kind == EventKind.VcpuStateChanged && manager.Vcpus.GetVcpu(Alice, "req", 0).State == VcpuState.Waiting);
        manager.Vcpus.StartVcpu(Alice, "req", 0);
        await watch;
        Assert.Equal(1UL, manager.Vcpus.GetVcpu(Alice, "req", 0).CurrentFaultId);

        AssertError(ErrorKind.NotFound, ErrorReasons.FaultNotFound, "fault_id", () => manager.Events.ResolveFault(Alice, "req", 2, FaultAction.Convert));
        AssertError(ErrorKind.NotFound, ErrorReasons.FaultNotFound, "fault_id", () => manager.Events.ResolveFault(Alice, "req", 0, FaultAction.Convert));
        AssertError(ErrorKind.InvalidArgument, ErrorReasons.InvalidFaultAction, "action", () => manager.Events.ResolveFault(Alice, "req", 1, FaultAction.Unspecified));
        AssertError(ErrorKind.FailedPrecondition, ErrorReasons.RetryNotAllowed, "action", () => manager.Events.ResolveFault(Alice, "req", 1, FaultAction.Retry));
        AssertError(ErrorKind.NotFound, ErrorReasons.VmNotFound, null, () => manager.Events.ResolveFault(Bob, "req", 1, FaultAction.Convert));
        Assert.Equal(VcpuState.Waiting, manager.Vcpus.GetVcpu(Alice, "req", 0).State);

        var finished = Until(manager.Events.WatchEvents(Alice, "req", 0, cancellationToken: Ct), e => AllFinished(e, 1));
        manager.Events.ResolveFault(Alice, "req", 1, FaultAction.Convert);
        AssertError(ErrorKind.FailedPrecondition, ErrorReasons.FaultAlreadyResolved, "fault_id", () => manager.Events.ResolveFault(Alice, "req", 1, FaultAction.Convert));
        await finished;
        Assert.Equal(VcpuState.Halted, manager.Vcpus.GetVcpu(Alice, "req", 0).State);
        Assert.Equal([new AttributeRange(Base, K4, MemoryAttributes.Private)], manager.Memory.GetMemoryAttributes(Alice, "req", Base, K4));
    }

    [Fact]
    public async Task FAIL_of_a_conversion_request_makes_the_guest_abort_and_the_vcpu_fail()
    {
        await using var manager = Manager();
        manager.Vms.CreateVm(Alice, new() { VmId = "refuse", VmType = VmType.SwProtected, FaultPolicy = FaultPolicy.Orchestrator, ResolutionTimeout = TimeSpan.FromMinutes(5) });
        manager.Vcpus.LoadGuestProgram(Alice, "refuse", 0, Program(GuestStep.MapGpaRange.ToPrivate(Base, 1), new GuestStep.Halt()));
        var events = Until(manager.Events.WatchEvents(Alice, "refuse", 1, cancellationToken: Ct), e =>
        {
            if (e[^1].Payload is EventPayload.ConversionRequested request)
            {
                manager.Events.ResolveFault(Alice, "refuse", request.FaultId, FaultAction.Fail);
            }

            return AllFinished(e, 1);
        });
        manager.Vcpus.StartVcpu(Alice, "refuse", 0);
        await events;

        var info = manager.Vcpus.GetVcpu(Alice, "refuse", 0);
        Assert.Equal(VcpuState.Failed, info.State);
        Assert.Equal("guest abort at step 0: MAP_GPA_RANGE at gpa 0x100000000 returned 0xffffffffffffffea", info.Reason);
    }

    [Fact]
    public async Task RETRY_of_a_memory_fault_whose_cause_is_unchanged_faults_again_with_a_new_id()
    {
        await using var manager = Manager();
        SetUp(manager, "retry", FaultPolicy.Orchestrator);
        var watch = Until(manager.Events.WatchEvents(Alice, "retry", 1, cancellationToken: Ct), e =>
        {
            if (e[^1].Payload is EventPayload.MemoryFault fault)
            {
                manager.Events.ResolveFault(Alice, "retry", fault.FaultId, fault.FaultId < 3 ? FaultAction.Retry : FaultAction.Fail);
            }

            return AllFinished(e, 1);
        });
        manager.Vcpus.StartVcpu(Alice, "retry", 0);
        var events = await watch;

        var faults = events.Select(e => e.Payload).OfType<EventPayload.MemoryFault>().ToList();
        Assert.Equal(
            [new(0, SharedPage(0), K4, true, 8, 1), new(0, SharedPage(0), K4, true, 8, 2), new EventPayload.MemoryFault(0, SharedPage(0), K4, true, 8, 3)],
            faults.Select(f => f with { Deadline = null }));
        Assert.All(faults, f => Assert.NotNull(f.Deadline));
        Assert.Equal("fault 3 failed by the orchestrator", manager.Vcpus.GetVcpu(Alice, "retry", 0).Reason);
    }

    internal static IEnumerable<ulong> FaultIds(List<VmEvent> events) =>
        events.Select(e => e.Payload switch
        {
            EventPayload.MemoryFault f => f.FaultId,
            EventPayload.ConversionRequested r => r.FaultId,
            _ => 0UL,
        }).Where(id => id != 0);

    internal static void AssertVcpuStory(List<VmEvent> events, int i)
    {
        var mine = events.Where(e => e.Payload.SourceVcpu == i).Select(e => e.Payload).ToList();
        var faults = mine.Where(p => p is EventPayload.MemoryFault or EventPayload.ConversionRequested).Select(p => p switch
        {
            EventPayload.MemoryFault f => (object)(f with { FaultId = 0, Deadline = f.Deadline is null ? DateTimeOffset.MinValue : null }),
            EventPayload.ConversionRequested r => r with { FaultId = 0, Deadline = r.Deadline is null ? DateTimeOffset.MinValue : null },
            _ => p,
        });
        Assert.Equal(
            [
                new EventPayload.MemoryFault(i, SharedPage(i), K4, true, 8, 0),
                new EventPayload.MemoryFault(i, PrivatePage(i), K4, false, 0, 0),
                new EventPayload.ConversionRequested(i, SharedPage(i), K4, false, 0),
                new EventPayload.ConversionRequested(i, SharedPage(i) + K4, 2 * K4, true, 0),
            ],
            faults);

        var kinds = mine.Select(p => p is EventPayload.VcpuStateChanged s ? s.State.ToString() : p.Kind.ToString());
        string[] resolution = ["Waiting", "ConversionApplied", "FaultResolved", "Running"];
        Assert.Equal(
            ["Ready", "Running", "MemoryFault", .. resolution, "MemoryFault", .. resolution, "ConversionRequested", .. resolution, "ConversionRequested", .. resolution, "GuestReport", "Halted"],
            kinds);
        Assert.All(mine.OfType<EventPayload.ConversionApplied>(), a => Assert.Equal(ConversionInitiator.Orchestrator, a.Initiator));
        Assert.Equal(new EventPayload.GuestReport(i, GuestProgram.ReportPort, 0x1000 + (uint)i), mine.OfType<EventPayload.GuestReport>().Single());
    }

    private static void AssertError(ErrorKind kind, string reason, string? field, Action action)
    {
        var error = Assert.Throws<CoreException>(action);
        Assert.Equal((kind, reason, field), (error.Kind, error.Reason, error.Field));
    }
}
