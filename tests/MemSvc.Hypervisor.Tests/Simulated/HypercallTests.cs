using static MemSvc.Hypervisor.Tests.Simulated.Sim;

namespace MemSvc.Hypervisor.Tests.Simulated;

/// <summary>SEMANTICS.md §6 (HC) and CV-7.</summary>
public class HypercallTests
{
    private const ulong Gpa = 0x100000;

    [Fact]
    public void HC_1_only_bit_12_can_be_enabled()
    {
        var (vm, _) = VmWithSlot(VmType.Snp);
        var e = Throws(() => vm.EnableExitHypercall((1UL << 12) | 1));
        Assert.Equal((Errno.EINVAL, "KVM_ENABLE_CAP", "args[0]"), (e.Errno, e.Operation, e.Argument));
    }

    [Fact]
    public void HC_2_without_the_exit_the_guest_gets_minus_KVM_ENOSYS_and_aborts()
    {
        var (vm, _) = VmWithSlot(VmType.Snp);
        var exit = RunProgram(vm, GuestStep.MapGpaRange.ToPrivate(Gpa, 1), new GuestStep.Halt());
        Assert.Equal(new VmExit.GuestAbort(0, GuestAbortReason.HypercallFailed, Gpa, 0, unchecked((ulong)-1000L)), exit);
    }

    [Fact]
    public void HC_2_disabling_again_with_0_restores_minus_KVM_ENOSYS()
    {
        var (vm, _) = VmWithSlot(VmType.Snp);
        vm.EnableExitHypercall(1UL << 12);
        vm.EnableExitHypercall(0);
        Assert.Equal(unchecked((ulong)-1000L), Assert.IsType<VmExit.GuestAbort>(RunProgram(vm, GuestStep.MapGpaRange.ToShared(Gpa, 1))).Actual);
    }

    [Theory]
    [InlineData(Gpa + 1, 1UL)]
    [InlineData(Gpa, 0UL)]
    [InlineData(Gpa, ulong.MaxValue)]
    public void HC_3_bad_arguments_give_minus_KVM_EINVAL_without_an_exit(ulong gpa, ulong pages)
    {
        var (vm, _) = VmWithSlot(VmType.Tdx);
        vm.EnableExitHypercall(1UL << 12);
        var exit = RunProgram(vm, new GuestStep.MapGpaRange(gpa, pages, 0), new GuestStep.Halt());
        Assert.Equal(new VmExit.GuestAbort(0, GuestAbortReason.HypercallFailed, gpa, 0, unchecked((ulong)-22L)), exit);
    }

    [Fact]
    public void HC_4_HC_5_a_valid_call_exits_and_ret_0_resumes_the_guest()
    {
        var (vm, _) = VmWithSlot(VmType.SwProtected);
        vm.EnableExitHypercall(1UL << 12);
        var vcpu = vm.CreateVcpu(0);
        vcpu.LoadProgram(Program(GuestStep.MapGpaRange.ToPrivate(Gpa, 3), new GuestStep.Report(9)));
        var exit = Assert.IsType<VmExit.MapGpaRange>(vcpu.Run());
        Assert.Equal((Gpa, 3UL, VmExit.MapGpaRange.Encrypted, 3 * K4, true), (exit.Gpa, exit.Pages, exit.Attributes, exit.Size, exit.ToPrivate));
        Assert.Equal(new VmExit.PortIo(GuestProgram.ReportPort, true, 4, 9), vcpu.Run());
    }

    [Fact]
    public void CV_7_a_non_zero_ret_aborts_the_guest_on_the_next_run_and_ret_is_pre_zeroed_per_exit()
    {
        var (vm, _) = VmWithSlot(VmType.SwProtected);
        vm.EnableExitHypercall(1UL << 12);
        var vcpu = vm.CreateVcpu(0);
        vcpu.LoadProgram(Program(GuestStep.MapGpaRange.ToShared(Gpa, 1), GuestStep.MapGpaRange.ToShared(Gpa, 2), new GuestStep.Report(1)));
        Assert.IsType<VmExit.MapGpaRange>(vcpu.Run());
        vcpu.CompleteHypercall(5);
        var abort = Assert.IsType<VmExit.GuestAbort>(vcpu.Run());
        Assert.Equal((0, GuestAbortReason.HypercallFailed, Gpa, 0UL, 5UL), (abort.Step, abort.Reason, abort.Gpa, abort.Expected, abort.Actual));
        Assert.Equal(abort, vcpu.Run());

        vcpu.LoadProgram(Program(GuestStep.MapGpaRange.ToShared(Gpa, 1), GuestStep.MapGpaRange.ToShared(Gpa, 2), new GuestStep.Report(1)));
        Assert.Equal(1UL, Assert.IsType<VmExit.MapGpaRange>(vcpu.Run()).Pages);
        Assert.Equal(2UL, Assert.IsType<VmExit.MapGpaRange>(vcpu.Run()).Pages);
        Assert.IsType<VmExit.PortIo>(vcpu.Run());
    }
}
