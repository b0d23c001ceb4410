namespace MemSvc.Hypervisor.Tests.Kvm;

/// <summary>Guest programs compiled to x86-64 and run at CPL3 on real KVM.</summary>
public class GuestProgramTests
{
    private const ulong M = KvmRig.M;
    private static readonly VmExit Halt = new VmExit.Halt();

    [Fact]
    public void A_new_vcpu_halts_and_keeps_halting()
    {
        var (rig, vcpu) = KvmRig.WithAnonymousSlotAndVcpu();
        using var _ = rig;
        Assert.Equal(Halt, vcpu.Run());
        Assert.Equal(Halt, vcpu.Run());
    }

    [Fact]
    public void Reports_arrive_as_port_writes_then_the_program_halts()
    {
        var (rig, vcpu) = KvmRig.WithAnonymousSlotAndVcpu();
        using var _ = rig;
        vcpu.LoadProgram(new GuestProgram([new GuestStep.Report(1), new GuestStep.Report(0xdeadbeef), new GuestStep.Halt()]));
        Assert.Equal(new VmExit.PortIo(GuestProgram.ReportPort, true, 4, 1), vcpu.Run());
        Assert.Equal(new VmExit.PortIo(GuestProgram.ReportPort, true, 4, 0xdeadbeef), vcpu.Run());
        Assert.Equal(Halt, vcpu.Run());
        Assert.Equal(Halt, vcpu.Run());
    }

    [Fact]
    public void Loading_again_restarts_at_the_first_step()
    {
        var (rig, vcpu) = KvmRig.WithAnonymousSlotAndVcpu();
        using var _ = rig;
        var program = new GuestProgram([new GuestStep.Report(5)]);
        vcpu.LoadProgram(program);
        Assert.Equal(new VmExit.PortIo(GuestProgram.ReportPort, true, 4, 5), vcpu.Run());
        vcpu.LoadProgram(program);
        Assert.Equal(new VmExit.PortIo(GuestProgram.ReportPort, true, 4, 5), vcpu.Run());
        Assert.Equal(Halt, vcpu.Run());
    }

    [Fact]
    public void What_the_guest_writes_the_host_reads()
    {
        var (rig, vcpu) = KvmRig.WithAnonymousSlotAndVcpu();
        using var _ = rig;
        const ulong gpa = (2 * M) + 0x100;
        vcpu.LoadProgram(new GuestProgram(
        [
            new GuestStep.WritePattern(gpa, 0x3000, 0x5a, AccessIntent.Shared),
            new GuestStep.CheckPattern(gpa, 0x3000, 0x5a, AccessIntent.Private),
            new GuestStep.Report(7),
        ]));
        Assert.Equal(new VmExit.PortIo(GuestProgram.ReportPort, true, 4, 7), vcpu.Run());
        Assert.Equal(Halt, vcpu.Run());

        var bytes = new byte[0x3002];
        rig.Vm.ReadSharedMemory(gpa - 1, bytes);
        Assert.Equal(0, bytes[0]);
        Assert.All(bytes[1..^1], b => Assert.Equal(0x5a, b));
        Assert.Equal(0, bytes[^1]);
    }

    [Fact]
    public void What_the_host_writes_the_guest_reads()
    {
        var (rig, vcpu) = KvmRig.WithAnonymousSlotAndVcpu();
        using var _ = rig;
        rig.Vm.WriteSharedMemory(3 * M, Enumerable.Repeat((byte)0xc3, 8192).ToArray());
        vcpu.LoadProgram(new GuestProgram([new GuestStep.CheckPattern(3 * M, 8192, 0xc3, AccessIntent.Shared), new GuestStep.Report(1)]));
        Assert.Equal(new VmExit.PortIo(GuestProgram.ReportPort, true, 4, 1), vcpu.Run());
    }

    [Fact]
    public void A_pattern_mismatch_aborts_with_the_exact_gpa_expected_and_actual_byte()
    {
        var (rig, vcpu) = KvmRig.WithAnonymousSlotAndVcpu();
        using var _ = rig;
        rig.Vm.WriteSharedMemory(2 * M, Enumerable.Repeat((byte)0x11, 4096).ToArray());
        rig.Vm.WriteSharedMemory((2 * M) + 0x7ff, [0x22]);
        vcpu.LoadProgram(new GuestProgram(
        [
            new GuestStep.Report(1),
            new GuestStep.CheckPattern(2 * M, 4096, 0x11, AccessIntent.Shared),
            new GuestStep.Report(2),
        ]));
        Assert.Equal(new VmExit.PortIo(GuestProgram.ReportPort, true, 4, 1), vcpu.Run());
        var abort = new VmExit.GuestAbort(1, GuestAbortReason.PatternMismatch, (2 * M) + 0x7ff, 0x11, 0x22);
        Assert.Equal(abort, vcpu.Run());
        Assert.Equal(abort, vcpu.Run());
    }

    [Fact]
    public void Two_vcpus_run_their_own_programs()
    {
        var (rig, vcpu0) = KvmRig.WithAnonymousSlotAndVcpu();
        using var _ = rig;
        var vcpu1 = rig.Vm.CreateVcpu(1);
        vcpu0.LoadProgram(new GuestProgram([new GuestStep.Report(10)]));
        vcpu1.LoadProgram(new GuestProgram([new GuestStep.Report(11)]));
        Assert.Equal(new VmExit.PortIo(GuestProgram.ReportPort, true, 4, 11), vcpu1.Run());
        Assert.Equal(new VmExit.PortIo(GuestProgram.ReportPort, true, 4, 10), vcpu0.Run());
        Assert.Equal(Halt, vcpu0.Run());
        Assert.Equal(Halt, vcpu1.Run());
    }

    [Fact]
    public void Accesses_no_memslot_serves_are_mmio_exits_and_reads_see_zero()
    {
        var (rig, vcpu) = KvmRig.WithAnonymousSlotAndVcpu();
        using var _ = rig;
        vcpu.LoadProgram(new GuestProgram(
        [
            new GuestStep.WritePattern(256 * M, 1, 0x77, AccessIntent.Shared),
            new GuestStep.CheckPattern(256 * M, 1, 0, AccessIntent.Shared),
            new GuestStep.Report(3),
        ]));
        Assert.Equal(new VmExit.Mmio(256 * M, 1, true), vcpu.Run());
        Assert.Equal(new VmExit.Mmio(256 * M, 1, false), vcpu.Run());
        Assert.Equal(new VmExit.PortIo(GuestProgram.ReportPort, true, 4, 3), vcpu.Run());
    }

    [Fact]
    public void Programs_beyond_the_identity_map_or_into_boot_memory_are_refused()
    {
        var (rig, vcpu) = KvmRig.WithAnonymousSlotAndVcpu();
        using var _ = rig;
        var above = new GuestProgram([new GuestStep.WritePattern((64UL << 30) - 1, 2, 0, AccessIntent.Shared)]);
        Assert.Equal(Errno.EINVAL, KvmRig.Fails(() => vcpu.LoadProgram(above)).Errno);
        var boot = new GuestProgram([new GuestStep.CheckPattern(0xFFFF_F000, 1, 0, AccessIntent.Shared)]);
        Assert.Equal(Errno.EINVAL, KvmRig.Fails(() => vcpu.LoadProgram(boot)).Errno);
        Assert.Equal(Errno.EINVAL, KvmRig.Fails(() => vcpu.LoadProgram(new GuestProgram([]))).Errno);
    }

    [Fact]
    public void The_boot_memslot_is_reserved_once_a_vcpu_exists()
    {
        var (rig, _) = KvmRig.WithAnonymousSlotAndVcpu();
        using var __ = rig;
        var boot = rig.Vm.BootSlot;
        Assert.Equal(Errno.EINVAL, KvmRig.Fails(() => rig.Vm.SetUserMemoryRegion(MemoryRegion.Delete(boot))).Errno);
        var overlapping = new MemoryRegion(2, MemoryRegionFlags.None, 0xFFE0_0000, 2 * M, SharedBacking.Anonymous);
        Assert.Equal(Errno.EEXIST, KvmRig.Fails(() => rig.Vm.SetUserMemoryRegion(overlapping)).Errno);
        var bytes = new byte[1];
        Assert.Equal(Errno.EFAULT, KvmRig.Fails(() => rig.Vm.ReadSharedMemory(0xFFC0_0000, bytes)).Errno);
    }
}
