using System.Text;
using MemSvc.Core.Backends;
using MemSvc.Core.Events;
using MemSvc.Core.Faults;
using MemSvc.Core.Handoff;
using MemSvc.Core.Tests.Flows;
using MemSvc.Core.Vcpus;
using MemSvc.Core.Vms;
using MemSvc.Hypervisor;
using MemSvc.Hypervisor.Simulated;
using static MemSvc.Core.Tests.Flows.ConversionFlow;
using static MemSvc.Core.Tests.Support.Core;

namespace MemSvc.Core.Tests.Vms;

/// <summary>
/// Issue 16's planned handoff in Core, between two managers in one process (the server tests do it between two
/// processes): the orchestrator flow, interrupted by a handoff at several points, ends exactly as it does without one.
/// </summary>
public class HandoffTests
{
    [Theory]
    [InlineData(0)]
    [InlineData(3)]
    [InlineData(5)]
    public async Task A_handoff_after_any_number_of_resolved_faults_ends_the_orchestrator_flow_as_it_ends_without_one(int resolvedBefore)
    {
        await using var old = Manager();
        SetUp(old, "flow", FaultPolicy.Orchestrator);
        old.Vcpus.StartVcpu(Alice, "flow", 0);
        old.Vcpus.StartVcpu(Alice, "flow", 1);
        var resolved = 0;
        await Until(old.Events.WatchEvents(Alice, "flow", 1, cancellationToken: Ct), events =>
        {
            var faultId = OrchestratorFlowTests.FaultIds([events[^1]]).SingleOrDefault();
            if (faultId == 0 || resolved == resolvedBefore)
            {
                return faultId != 0;
            }

            old.Events.ResolveFault(Alice, "flow", faultId, FaultAction.Convert);
            resolved++;
            return false;
        });

        var (state, vms) = old.FreezeForHandoff(TimeSpan.FromSeconds(30));
        var last = old.Vms.GetVm(Alice, "flow").LastEventSequence;
        var events = await Until(old.Events.WatchEvents(Alice, "flow", 1, cancellationToken: Ct), e => e[^1].Sequence == last);

        await using var next = Manager();
        next.AdoptHandoff(state);

        // The faults that moved are resolved before the vCPUs run again: each vCPU goes on with its resolution.
        foreach (var pending in next.Events.ListPendingFaults(Alice, "flow").Faults)
        {
            next.Events.ResolveFault(Alice, "flow", OrchestratorFlowTests.FaultIds([pending.Event]).Single(), FaultAction.Convert);
        }

        next.ThawVcpus();

        events.AddRange(await Until(next.Events.WatchEvents(Alice, "flow", last + 1, cancellationToken: Ct), later =>
        {
            var faultId = OrchestratorFlowTests.FaultIds([later[^1]]).SingleOrDefault();
            if (faultId != 0)
            {
                next.Events.ResolveFault(Alice, "flow", faultId, FaultAction.Convert);
            }

            return AllFinished([.. events, .. later], 2);
        }));

        Assert.Equal(1, vms);
        Assert.Equal(old.Vms.GetVm(Alice, "flow").Uid, next.Vms.GetVm(Alice, "flow").Uid);
        for (var i = 0; i < 2; i++)
        {
            var info = next.Vcpus.GetVcpu(Alice, "flow", i);
            Assert.Equal(VcpuState.Halted, info.State);
            Assert.Equal(2, info.ExitCounts[VcpuExitKind.MemoryFault]);
            Assert.Equal(2, info.ExitCounts[VcpuExitKind.Hypercall]);
            OrchestratorFlowTests.AssertVcpuStory(events, i);
        }

        Assert.Equal(Enumerable.Range(1, 8).Select(i => (ulong)i), OrchestratorFlowTests.FaultIds(events).Order());
        Assert.Equal(Enumerable.Range(1, events.Count).Select(i => (ulong)i), events.Select(e => e.Sequence));
        Assert.Equal(ExpectedAttributes(), next.Memory.GetMemoryAttributes(Alice, "flow", Base, 64 * M));
        Assert.Equal(Enumerable.Repeat((byte)0xb1, (int)K4), next.Memory.ReadGuestMemory(Alice, "flow", PrivatePage(1), K4));
    }

    [Fact]
    public async Task A_VM_of_a_backend_that_cannot_hand_off_refuses_the_whole_handoff_and_nothing_stops()
    {
        // The scripted hypervisor's VMs wrap simulated ones, as a kvm VM is none: a backend whose VMs cannot move.
        using var scripted = new Support.ScriptedHypervisor();
        await using var manager = new VmManager(new BackendCatalog(new Dictionary<string, IHypervisor> { ["simulated"] = new SimulatedHypervisor(), ["scripted"] = scripted }, "simulated"));
        SetUp(manager, "flow", FaultPolicy.Orchestrator);
        manager.Vms.CreateVm(Alice, new CreateVmRequest { VmId = "other", Backend = "scripted" });
        manager.Vcpus.StartVcpu(Alice, "flow", 0);
        var fault = (await Until(manager.Events.WatchEvents(Alice, "flow", 1, cancellationToken: Ct), e => OrchestratorFlowTests.FaultIds(e).Any()))[^1];

        Assert.Equal("VMs on a backend that cannot be handed off yet: 'other' (scripted); delete them or restart instead", manager.WhyNoHandoff());
        var refused = Assert.Throws<HandoffRefusedException>(() => manager.FreezeForHandoff(TimeSpan.FromSeconds(30)));
        Assert.Equal(manager.WhyNoHandoff(), refused.Message);

        // The flow's vCPU still waits on its fault and goes on when it is resolved.
        manager.Events.ResolveFault(Alice, "flow", OrchestratorFlowTests.FaultIds([fault]).Single(), FaultAction.Convert);
        await Until(manager.Events.WatchEvents(Alice, "flow", fault.Sequence, cancellationToken: Ct), e => OrchestratorFlowTests.FaultIds(e).Count() == 2);
    }

    [Fact]
    public async Task A_state_of_another_version_is_refused_and_adopts_nothing()
    {
        await using var old = Manager();
        SetUp(old, "flow", FaultPolicy.Orchestrator);
        var (state, _) = old.FreezeForHandoff(TimeSpan.FromSeconds(30));
        var newer = Encoding.UTF8.GetBytes(Encoding.UTF8.GetString(state).Replace("\"Version\":4,", "\"Version\":5,", StringComparison.Ordinal));

        await using var next = Manager();
        var refused = Assert.Throws<HandoffRefusedException>(() => next.AdoptHandoff(newer));

        Assert.Equal("the handoff state is version 5; this build reads versions 2 to 4", refused.Message);
        Assert.Empty(next.Vms.ListVms(Alice).Vms);
        next.AdoptHandoff(state);
        Assert.Equal(["flow"], next.Vms.ListVms(Alice).Vms.Select(v => v.VmId));
    }

    [Fact]
    public async Task A_state_written_for_the_release_before_is_version_2_without_the_freeze_time_and_this_build_adopts_it()
    {
        await using var old = Manager();
        SetUp(old, "flow", FaultPolicy.Orchestrator);
        var before = DateTimeOffset.UtcNow;
        var (current, _) = old.FreezeForHandoff(TimeSpan.FromSeconds(30));
        old.ThawVcpus();
        var (previous, _) = old.FreezeForHandoff(TimeSpan.FromSeconds(30), version: 2);

        await using var next = Manager();
        var adoption = next.AdoptHandoff(previous);

        Assert.Contains("\"Version\":2,", Encoding.UTF8.GetString(previous), StringComparison.Ordinal);
        Assert.Contains("\"FrozenAt\":null", Encoding.UTF8.GetString(previous), StringComparison.Ordinal);
        Assert.Equal((2, 1, 0, (DateTimeOffset?)null), (adoption.Version, adoption.Vms, adoption.PendingFaults, adoption.FrozenAt));
        Assert.Equal(["flow"], next.Vms.ListVms(Alice).Vms.Select(v => v.VmId));
        await using var third = Manager();
        var frozenAt = third.AdoptHandoff(current).FrozenAt;
        Assert.InRange(frozenAt!.Value, before, DateTimeOffset.UtcNow);
        Assert.Throws<ArgumentOutOfRangeException>(() => old.FreezeForHandoff(TimeSpan.FromSeconds(30), version: 1));
    }
}
