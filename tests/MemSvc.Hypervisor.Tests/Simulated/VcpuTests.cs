using MemSvc.Hypervisor.Simulated;
using static MemSvc.Hypervisor.Tests.Simulated.Sim;

namespace MemSvc.Hypervisor.Tests.Simulated;

/// <summary>How a simulated vCPU runs its program: resume points, interrupts, errors, disposal.</summary>
public class VcpuTests
{
    [Fact]
    public void Run_without_a_program_is_EINVAL_and_an_invalid_program_is_refused()
    {
        using var vm = NewHypervisor().CreateSimulatedVm(VmType.Default);
        var vcpu = vm.CreateVcpu(0);
        Assert.Equal((Errno.EINVAL, "KVM_RUN"), (Throws(() => vcpu.Run()).Errno, Throws(() => vcpu.Run()).Operation));
        Assert.Equal(Errno.EINVAL, Throws(() => vcpu.LoadProgram(Program())).Errno);
        Assert.Equal(Errno.EINVAL, Throws(() => vcpu.LoadProgram(Program(Write(1, 0, 0)))).Errno);
    }

    [Fact]
    public void Requested_exit_interrupts_the_current_or_next_run_and_the_run_continues_where_it_was()
    {
        var (vm, _) = VmWithSlot(VmType.Default);
        var vcpu = vm.CreateVcpu(0);
        vcpu.LoadProgram(Program(new GuestStep.Report(1), new GuestStep.Report(2), new GuestStep.Halt()));
        Assert.Equal(1U, ((VmExit.PortIo)vcpu.Run()).Value);
        vcpu.RequestExit();
        Assert.IsType<VmExit.Interrupted>(vcpu.Run());
        Assert.Equal(2U, ((VmExit.PortIo)vcpu.Run()).Value);
        Assert.IsType<VmExit.Halt>(vcpu.Run());
    }

    [Fact]
    public void Requested_exit_from_another_thread_stops_a_long_step_mid_way_and_it_completes_later()
    {
        var (vm, gmem) = VmWithSlot(VmType.Snp, size: 64 * M);
        vm.SetMemoryAttributes(0, 64 * M, MemoryAttributes.Private);
        var vcpu = vm.CreateVcpu(0);
        vcpu.LoadProgram(Program(Write(0, 64 * M, 0x21, AccessIntent.Private), new GuestStep.Halt()));
        VmExit? first = null;
        var runner = new Thread(() => first = vcpu.Run());
        vcpu.RequestExit();
        runner.Start();
        runner.Join();
        Assert.IsType<VmExit.Interrupted>(first);
        Assert.IsType<VmExit.Halt>(vcpu.Run());
        Assert.Equal(0x21, gmem.Store.ReadByte((64 * M) - 1));
    }

    [Fact]
    public void LoadProgram_restarts_at_step_0()
    {
        var (vm, _) = VmWithSlot(VmType.Default);
        var vcpu = (SimulatedVcpu)vm.CreateVcpu(0);
        var program = Program(new GuestStep.Report(1), new GuestStep.Report(2));
        vcpu.LoadProgram(program);
        vcpu.Run();
        Assert.Equal(1, vcpu.CurrentStep);
        vcpu.LoadProgram(program);
        Assert.Equal(1U, ((VmExit.PortIo)vcpu.Run()).Value);
    }

    [Fact]
    public void Running_off_the_end_halts()
    {
        var (vm, _) = VmWithSlot(VmType.Default);
        Assert.IsType<VmExit.Halt>(RunProgram(vm, Write(0, 1, 1)));
    }

    [Fact]
    public void vCPU_ids_are_bounded_and_unique()
    {
        using var vm = NewHypervisor().CreateSimulatedVm(VmType.Default);
        vm.CreateVcpu(1023);
        Assert.Equal(Errno.EINVAL, Throws(() => vm.CreateVcpu(1024)).Errno);
        Assert.Equal(Errno.EINVAL, Throws(() => vm.CreateVcpu(-1)).Errno);
        Assert.Equal(Errno.EEXIST, Throws(() => vm.CreateVcpu(1023)).Errno);
    }

    [Fact]
    public void Disposing_the_VM_frees_slots_and_vcpus_and_every_operation_then_fails_EBADF()
    {
        var hv = NewHypervisor();
        var (vm, gmem) = VmWithSlot(VmType.SwProtected, hv: hv);
        var vcpu = vm.CreateVcpu(0);
        vcpu.LoadProgram(Program(new GuestStep.Halt()));
        Assert.Equal(1, hv.UserMappingCount);
        vm.Dispose();
        Assert.Equal(0, hv.UserMappingCount);
        Assert.Equal(Errno.EBADF, Throws(() => vcpu.Run()).Errno);
        Assert.Equal(Errno.EBADF, Throws(() => vm.SetUserMemoryRegion(MemoryRegion.Delete(0))).Errno);
        Assert.Equal(Errno.EBADF, Throws(() => vm.SetMemoryAttributes(0, K4, MemoryAttributes.Private)).Errno);
        Assert.Equal(Errno.EBADF, Throws(() => vm.GetMemoryAttributes(0, K4)).Errno);
        Assert.Equal(Errno.EBADF, Throws(() => vm.EnableExitHypercall(0)).Errno);
        Assert.Equal(Errno.EBADF, Throws(() => vm.ReadSharedMemory(0, new byte[1])).Errno);
        Assert.Equal(Errno.EBADF, Throws(() => vm.CreateVcpu(1)).Errno);
        Assert.Equal(Errno.EBADF, Throws(() => vm.UnmapSharedBacking(0)).Errno);
        gmem.Fallocate(FallocateMode.KeepSize, 0, 4096);
    }

    [Fact]
    public void Capabilities_state_the_modelled_kernel()
    {
        var caps = NewHypervisor().Capabilities;
        Assert.Equal(("simulated", 12, 32764, 1024, 1UL << 12), (caps.Backend, caps.ApiVersion, caps.MaxMemslots, caps.MaxVcpus, caps.ExitHypercallMask));
        Assert.Equal([VmType.Default, VmType.SwProtected, VmType.Snp, VmType.Tdx], caps.VmTypes);
        Assert.Equal((GuestMemfdFlags.Mmap | GuestMemfdFlags.InitShared, MemoryAttributes.Private), (caps.GuestMemfdFlags, caps.MemoryAttributes));
        Assert.Equal(0x33, caps.Raw["KVM_CAP_VM_TYPES"]);
        Assert.Contains("6.18", caps.KernelVersion, StringComparison.Ordinal);
    }
}
