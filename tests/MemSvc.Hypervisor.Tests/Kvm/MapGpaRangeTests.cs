using MemSvc.Hypervisor.Tests.Capabilities;

namespace MemSvc.Hypervisor.Tests.Kvm;

/// <summary>KVM_HC_MAP_GPA_RANGE requests from guest programs (ucall port writes here), answered by CompleteHypercall.</summary>
public class MapGpaRangeTests
{
    private const ulong M = KvmRig.M;

    [Fact]
    public void Requests_exit_with_their_arguments_and_a_zero_result_lets_the_guest_continue()
    {
        var (rig, vcpu) = KvmRig.WithAnonymousSlotAndVcpu(HostNeed.MapGpaRangeExit);
        using var _ = rig;
        rig.Vm.EnableExitHypercall(1UL << 12);
        vcpu.LoadProgram(new GuestProgram(
        [
            GuestStep.MapGpaRange.ToPrivate(2 * M, 2),
            new GuestStep.Report(1),
            GuestStep.MapGpaRange.ToShared((2 * M) + 0x1000, 1),
            new GuestStep.Report(2),
        ]));
        var request = Assert.IsType<VmExit.MapGpaRange>(vcpu.Run());
        Assert.Equal(new VmExit.MapGpaRange(2 * M, 2, VmExit.MapGpaRange.Encrypted), request);
        Assert.True(request.ToPrivate);
        vcpu.CompleteHypercall(0);
        Assert.Equal(new VmExit.PortIo(GuestProgram.ReportPort, true, 4, 1), vcpu.Run());
        Assert.Equal(new VmExit.MapGpaRange((2 * M) + 0x1000, 1, 0), vcpu.Run());

        // Not answered: the guest sees 0, as with KVM's pre-zeroed hypercall.ret.
        Assert.Equal(new VmExit.PortIo(GuestProgram.ReportPort, true, 4, 2), vcpu.Run());
        Assert.Equal(new VmExit.Halt(), vcpu.Run());
    }

    [Fact]
    public void A_non_zero_result_aborts_the_guest_with_that_result()
    {
        var (rig, vcpu) = KvmRig.WithAnonymousSlotAndVcpu(HostNeed.MapGpaRangeExit);
        using var _ = rig;
        rig.Vm.EnableExitHypercall(1UL << 12);
        vcpu.LoadProgram(new GuestProgram([new GuestStep.Report(1), GuestStep.MapGpaRange.ToShared(4 * M, 3), new GuestStep.Report(2)]));
        Assert.Equal(new VmExit.PortIo(GuestProgram.ReportPort, true, 4, 1), vcpu.Run());
        Assert.Equal(new VmExit.MapGpaRange(4 * M, 3, 0), vcpu.Run());
        vcpu.CompleteHypercall(unchecked((ulong)-5L));
        var abort = new VmExit.GuestAbort(1, GuestAbortReason.HypercallFailed, 4 * M, 0, unchecked((ulong)-5L));
        Assert.Equal(abort, vcpu.Run());
        Assert.Equal(abort, vcpu.Run());
    }

    [Fact]
    public void Without_the_exit_enabled_the_guest_gets_minus_KVM_ENOSYS_and_no_exit()
    {
        var (rig, vcpu) = KvmRig.WithAnonymousSlotAndVcpu();
        using var _ = rig;
        vcpu.LoadProgram(new GuestProgram([GuestStep.MapGpaRange.ToPrivate(2 * M, 1)]));
        Assert.Equal(new VmExit.GuestAbort(0, GuestAbortReason.HypercallFailed, 2 * M, 0, unchecked((ulong)-1000L)), vcpu.Run());
    }

    [Theory]
    [InlineData(0x200800UL, 1UL)]
    [InlineData(0x200000UL, 0UL)]
    [InlineData(0x200000UL, ulong.MaxValue)]
    public void Invalid_requests_get_minus_KVM_EINVAL_without_an_exit(ulong gpa, ulong pages)
    {
        var (rig, vcpu) = KvmRig.WithAnonymousSlotAndVcpu(HostNeed.MapGpaRangeExit);
        using var _ = rig;
        rig.Vm.EnableExitHypercall(1UL << 12);
        vcpu.LoadProgram(new GuestProgram([new GuestStep.MapGpaRange(gpa, pages, 0)]));
        Assert.Equal(new VmExit.GuestAbort(0, GuestAbortReason.HypercallFailed, gpa, 0, unchecked((ulong)-22L)), vcpu.Run());
    }

    [Fact]
    public void Completing_without_a_pending_request_is_refused()
    {
        var (rig, vcpu) = KvmRig.WithAnonymousSlotAndVcpu();
        using var _ = rig;
        Assert.Equal(Errno.EINVAL, KvmRig.Fails(() => vcpu.CompleteHypercall(0)).Errno);
    }

    [Fact]
    public void Enabling_an_unsupported_hypercall_exit_is_EINVAL()
    {
        using var rig = new KvmRig(HostNeed.MapGpaRangeExit);
        rig.Vm.EnableExitHypercall(0);
        Assert.Equal(Errno.EINVAL, KvmRig.Fails(() => rig.Vm.EnableExitHypercall(2)).Errno);
    }
}
