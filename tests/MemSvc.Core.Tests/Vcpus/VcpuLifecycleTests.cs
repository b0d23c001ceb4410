using MemSvc.Core.Errors;
using MemSvc.Core.Events;
using MemSvc.Core.Faults;
using MemSvc.Core.Tests.Support;
using MemSvc.Core.Vcpus;
using MemSvc.Core.Vms;
using MemSvc.Hypervisor;
using static MemSvc.Core.Tests.Support.Core;

namespace MemSvc.Core.Tests.Vcpus;

public class VcpuLifecycleTests
{
    [Fact]
    public async Task Pause_stops_a_running_vcpu_and_start_resumes_it()
    {
        var hypervisor = new ScriptedHypervisor();
        await using var manager = Manager(hypervisor: hypervisor);
        manager.Vms.CreateVm(Alice, new() { VmId = "p" });
        manager.Vcpus.LoadGuestProgram(Alice, "p", 0, Program(new GuestStep.Halt()));
        var vcpu = hypervisor.Vcpus[0];
        vcpu.Then(new VmExit.PortIo(GuestProgram.ReportPort, true, 4, 7));

        var reported = Until(manager.Events.WatchEvents(Alice, "p", 0, cancellationToken: Ct), e => e[^1].Kind == EventKind.GuestReport);
        manager.Vcpus.StartVcpu(Alice, "p", 0);
        await reported;
        AssertError(ErrorReasons.VcpuBusy, () => manager.Vcpus.LoadGuestProgram(Alice, "p", 0, Program(new GuestStep.Halt())));
        AssertError(ErrorReasons.VcpuBusy, () => manager.Vcpus.StartVcpu(Alice, "p", 0));

        var paused = Until(manager.Events.WatchEvents(Alice, "p", 0, cancellationToken: Ct), e => e[^1].Payload is EventPayload.VcpuStateChanged { State: VcpuState.Paused });
        manager.Vcpus.PauseVcpu(Alice, "p", 0);
        await paused;
        Assert.Equal((VcpuState.Paused, VcpuExitKind.Interrupted), (manager.Vcpus.GetVcpu(Alice, "p", 0).State, manager.Vcpus.GetVcpu(Alice, "p", 0).LastExit));
        Assert.Equal(VcpuState.Paused, manager.Vcpus.PauseVcpu(Alice, "p", 0).State);

        var halted = Until(manager.Events.WatchEvents(Alice, "p", 0, cancellationToken: Ct), e => AllFinished(e, 1));
        Assert.Equal(VcpuState.Running, manager.Vcpus.StartVcpu(Alice, "p", 0).State);
        vcpu.Then(new VmExit.Halt());
        var tail = await halted;

        Assert.Equal(["resumed", "the guest program halted"], tail.Select(e => ((EventPayload.VcpuStateChanged)e.Payload).Reason));
        var info = manager.Vcpus.GetVcpu(Alice, "p", 0);
        Assert.Equal(new Dictionary<VcpuExitKind, long> { [VcpuExitKind.PortIo] = 1, [VcpuExitKind.Interrupted] = 1, [VcpuExitKind.Halt] = 1 }, info.ExitCounts);
        AssertError(ErrorReasons.VcpuFinished, () => manager.Vcpus.StartVcpu(Alice, "p", 0));
        Assert.Equal(VcpuState.Ready, manager.Vcpus.LoadGuestProgram(Alice, "p", 0, Program(new GuestStep.Halt())).State);
    }

    [Theory]
    [InlineData("mmio", "MMIO write of 4 bytes at gpa 0xfee00000: no memory region serves it")]
    [InlineData("shutdown", "KVM_EXIT_SHUTDOWN: the guest triple-faulted")]
    [InlineData("internal", "KVM internal error (suberror 1): emulation failure")]
    [InlineData("run error", "KVM_RUN failed: EFAULT: userspace_addr not mapped")]
    [InlineData("port read", "unexpected port read of 1 bytes at port 0x60")]
    [InlineData("mismatch", "guest abort at step 3: pattern check at gpa 0x2000 expected 0x11, read 0x22")]
    public async Task Exits_that_end_a_vcpu_give_a_reason_naming_what_happened(string exit, string reason)
    {
        var hypervisor = new ScriptedHypervisor();
        await using var manager = Manager(hypervisor: hypervisor);
        manager.Vms.CreateVm(Alice, new() { VmId = "x" });
        manager.Vcpus.LoadGuestProgram(Alice, "x", 0, Program(new GuestStep.Halt()));
        hypervisor.Vcpus[0].Then(() => exit switch
        {
            "mmio" => new VmExit.Mmio(0xfee00000, 4, true),
            "shutdown" => new VmExit.Shutdown(),
            "internal" => new VmExit.InternalError(1, "emulation failure"),
            "port read" => new VmExit.PortIo(0x60, false, 1, 0),
            "mismatch" => new VmExit.GuestAbort(3, GuestAbortReason.PatternMismatch, 0x2000, 0x11, 0x22),
            _ => throw new HypervisorException(Errno.EFAULT, "KVM_RUN", "userspace_addr not mapped"),
        });
        var finished = Until(manager.Events.WatchEvents(Alice, "x", 0, cancellationToken: Ct), e => AllFinished(e, 1));
        manager.Vcpus.StartVcpu(Alice, "x", 0);
        var last = (EventPayload.VcpuStateChanged)(await finished)[^1].Payload;

        Assert.Equal(exit == "shutdown" ? VcpuState.Shutdown : VcpuState.Failed, last.State);
        Assert.Equal(reason, last.Reason);
        Assert.Equal(reason, manager.Vcpus.GetVcpu(Alice, "x", 0).Reason);
    }

    [Fact]
    public async Task Deleting_a_vm_stops_running_and_waiting_vcpus_and_ends_its_watches()
    {
        var hypervisor = new ScriptedHypervisor();
        await using var manager = Manager(hypervisor: hypervisor);
        manager.Vms.CreateVm(Alice, new() { VmId = "doomed", VcpuCount = 2, FaultPolicy = FaultPolicy.Orchestrator, ResolutionTimeout = TimeSpan.FromHours(1) });
        manager.Vcpus.LoadGuestProgram(Alice, "doomed", 0, Program(new GuestStep.Halt()));
        manager.Vcpus.LoadGuestProgram(Alice, "doomed", 1, Program(new GuestStep.Halt()));
        hypervisor.Vcpus[0].Then(new VmExit.MemoryFault(0x1000, 4096, MemoryFaultFlags.Private));

        var waiting = Until(manager.Events.WatchEvents(Alice, "doomed", 0, cancellationToken: Ct), e => e[^1].Payload is EventPayload.VcpuStateChanged { State: VcpuState.Waiting });
        var watch = All(manager.Events.WatchEvents(Alice, "doomed", 1, cancellationToken: Ct));
        manager.Vcpus.StartVcpu(Alice, "doomed", 0);
        manager.Vcpus.StartVcpu(Alice, "doomed", 1);
        await waiting;
        Assert.Equal(VmState.Running, manager.Vms.GetVm(Alice, "doomed").State);

        manager.Vms.DeleteVm(Alice, "doomed");

        var events = await watch;
        Assert.Contains(events, e => e.Payload is EventPayload.MemoryFault { FaultId: 1 });
        Assert.All(hypervisor.Vcpus, v => Assert.True(v.Disposed));
        Assert.Equal(ErrorReasons.VmNotFound, Assert.Throws<CoreException>(() => manager.Vms.GetVm(Alice, "doomed")).Reason);
        Assert.Equal(ErrorReasons.VmNotFound, Assert.Throws<CoreException>(() => manager.Events.ResolveFault(Alice, "doomed", 1, FaultAction.Convert)).Reason);
    }

    [Fact]
    public async Task Disposing_the_manager_with_live_vms_and_open_watches_completes()
    {
        var hypervisor = new ScriptedHypervisor();
        var manager = Manager(hypervisor: hypervisor);
        manager.Vms.CreateVm(Alice, new() { VmId = "live", FaultPolicy = FaultPolicy.Orchestrator, ResolutionTimeout = TimeSpan.FromHours(1) });
        manager.Vms.CreateVm(Bob, new() { VmId = "spinning" });
        manager.Vcpus.LoadGuestProgram(Alice, "live", 0, Program(new GuestStep.Halt()));
        manager.Vcpus.LoadGuestProgram(Bob, "spinning", 0, Program(new GuestStep.Halt()));
        hypervisor.Vcpus[0].Then(new VmExit.MapGpaRange(0x1000, 1, VmExit.MapGpaRange.Encrypted));
        var waiting = Until(manager.Events.WatchEvents(Alice, "live", 0, cancellationToken: Ct), e => e[^1].Payload is EventPayload.VcpuStateChanged { State: VcpuState.Waiting });
        var single = All(manager.Events.WatchEvents(Alice, "live", 1, cancellationToken: Ct));
        // An all-VMs watch starts at its first read and a shutdown ends it without draining, so the test waits
        // until it has delivered the request before shutting down.
        var everythingSawRequest = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var everything = Task.Run(
            async () =>
            {
                var seen = new List<VmEvent>();
                await foreach (var e in manager.Events.WatchEvents(Admin, null, 1, cancellationToken: Ct))
                {
                    seen.Add(e);
                    if (e.Kind == EventKind.ConversionRequested)
                    {
                        everythingSawRequest.TrySetResult();
                    }
                }

                return seen;
            },
            Ct);
        manager.Vcpus.StartVcpu(Alice, "live", 0);
        manager.Vcpus.StartVcpu(Bob, "spinning", 0);
        await waiting;
        await everythingSawRequest.Task.WaitAsync(Ct);

        await manager.DisposeAsync();

        Assert.Contains(await single, e => e.Kind == EventKind.ConversionRequested);
        Assert.Contains(await everything, e => e.Kind == EventKind.ConversionRequested);
        Assert.All(hypervisor.Vcpus, v => Assert.True(v.Disposed));
        Assert.Equal(ErrorReasons.ShuttingDown, Assert.Throws<CoreException>(() => manager.Vms.CreateVm(Alice, new() { VmId = "late" })).Reason);
    }

    private static void AssertError(string reason, Action call) =>
        Assert.Equal(reason, Assert.Throws<CoreException>(call).Reason);
}
