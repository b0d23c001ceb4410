using MemSvc.Hypervisor.Kvm;

namespace MemSvc.Hypervisor.Tests.Kvm;

/// <summary>RequestExit: kvm_run.immediate_exit for the next run, a signal for a running one.</summary>
public class RequestExitTests
{
    [Fact]
    public void A_request_before_run_interrupts_that_run_once()
    {
        var (rig, vcpu) = KvmRig.WithAnonymousSlotAndVcpu();
        using var _ = rig;
        vcpu.LoadProgram(new GuestProgram([new GuestStep.Report(1)]));
        vcpu.RequestExit();
        Assert.Equal(new VmExit.Interrupted(), vcpu.Run());
        Assert.Equal(new VmExit.PortIo(GuestProgram.ReportPort, true, 4, 1), vcpu.Run());
        Assert.Equal(new VmExit.Halt(), vcpu.Run());
    }

    [Fact]
    public async Task A_request_from_another_thread_stops_a_guest_that_spins_forever()
    {
        var (rig, vcpu) = KvmRig.WithAnonymousSlotAndVcpu();
        using var _ = rig;

        // jmp $ (EB FE): only a signal can get this vCPU out of KVM_RUN. One request is enough whenever it lands: before
        // KVM_RUN it is immediate_exit, during it the signal. A second one could land after the run ended and would
        // rightly interrupt the next run, so the test sends exactly one, once the guest has had time to spin.
        vcpu.LoadCode([0xEB, 0xFE]);
        var run = Task.Factory.StartNew(vcpu.Run, TestContext.Current.CancellationToken, TaskCreationOptions.LongRunning, TaskScheduler.Default);
        await Task.Delay(200, TestContext.Current.CancellationToken);
        vcpu.RequestExit();
        Assert.Equal(new VmExit.Interrupted(), await run);
        vcpu.LoadProgram(new GuestProgram([new GuestStep.Report(2)]));
        Assert.Equal(new VmExit.PortIo(GuestProgram.ReportPort, true, 4, 2), vcpu.Run());
    }
}
