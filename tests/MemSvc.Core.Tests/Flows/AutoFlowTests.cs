using MemSvc.Core.Events;
using MemSvc.Core.Faults;
using MemSvc.Core.Vcpus;
using static MemSvc.Core.Tests.Flows.ConversionFlow;
using static MemSvc.Core.Tests.Support.Core;

namespace MemSvc.Core.Tests.Flows;

public class AutoFlowTests
{
    [Fact]
    public async Task AUTO_converts_every_fault_itself_and_the_vcpus_halt()
    {
        await using var manager = Manager();
        SetUp(manager, "auto", FaultPolicy.Auto);
        var watch = Until(manager.Events.WatchEvents(Alice, "auto", 1, cancellationToken: Ct), e => AllFinished(e, 2));
        manager.Vcpus.StartVcpu(Alice, "auto", 0);
        manager.Vcpus.StartVcpu(Alice, "auto", 1);
        var events = await watch;

        Assert.Equal(VcpuState.Halted, manager.Vcpus.GetVcpu(Alice, "auto", 0).State);
        Assert.Equal(VcpuState.Halted, manager.Vcpus.GetVcpu(Alice, "auto", 1).State);
        var applied = events.Select(e => e.Payload).OfType<EventPayload.ConversionApplied>().ToList();
        Assert.Equal(8, applied.Count);
        Assert.All(applied, a => Assert.Equal(ConversionInitiator.Auto, a.Initiator));
        Assert.Equal(
            [(SharedPage(0), K4, true), (PrivatePage(0), K4, false), (SharedPage(0), K4, false), (SharedPage(0) + K4, 2 * K4, true)],
            applied.Where(a => a.Vcpu == 0).Select(a => (a.Gpa, a.Size, a.ToPrivate)));
        var resolved = events.Select(e => e.Payload).OfType<EventPayload.FaultResolved>().ToList();
        Assert.All(resolved, r => Assert.Equal((FaultAction.Convert, false), (r.Action, r.ByFallback)));
        Assert.Equal(OrchestratorFlowTests.FaultIds(events).Order(), resolved.Select(r => r.FaultId).Order());
        Assert.DoesNotContain(events, e => e.Payload is EventPayload.VcpuStateChanged { State: VcpuState.Waiting });

        // Nobody waits for these faults: they carry no deadline, so an orchestrator knows not to answer them.
        Assert.All(events.Select(e => e.Payload).OfType<EventPayload.MemoryFault>(), f => Assert.Null(f.Deadline));
        Assert.All(events.Select(e => e.Payload).OfType<EventPayload.ConversionRequested>(), r => Assert.Null(r.Deadline));
        Assert.Equal(ExpectedAttributes(), manager.Memory.GetMemoryAttributes(Alice, "auto", Base, 64 * M));
    }

    [Fact]
    public async Task AUTO_fails_a_vcpu_whose_fault_no_conversion_can_resolve()
    {
        // A private access to a page outside every guest_memfd slot: the range is not private-capable.
        await using var manager = Manager();
        manager.Vms.CreateVm(Alice, new() { VmId = "nogmem", VmType = Hypervisor.VmType.SwProtected });
        manager.MemoryRegions.SetMemoryRegion(Alice, "nogmem", new() { Slot = 0, Gpa = Base, Size = 2 * M });
        manager.Vcpus.LoadGuestProgram(Alice, "nogmem", 0, Program(Write(Base, K4, 1, Hypervisor.AccessIntent.Private), new Hypervisor.GuestStep.Halt()));
        var watch = Until(manager.Events.WatchEvents(Alice, "nogmem", 1, cancellationToken: Ct), e => AllFinished(e, 1));
        manager.Vcpus.StartVcpu(Alice, "nogmem", 0);
        var events = await watch;

        var info = manager.Vcpus.GetVcpu(Alice, "nogmem", 0);
        Assert.Equal(VcpuState.Failed, info.State);
        Assert.StartsWith("Auto conversion for fault 1 failed: [0x100000000, 0x100001000) is not wholly covered", info.Reason, StringComparison.Ordinal);
        var resolved = events.Select(e => e.Payload).OfType<EventPayload.FaultResolved>().Single();
        Assert.Equal((1UL, FaultAction.Fail, false), (resolved.FaultId, resolved.Action, resolved.ByFallback));
    }
}
