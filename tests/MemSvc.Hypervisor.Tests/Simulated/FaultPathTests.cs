using MemSvc.Hypervisor.Simulated;
using static MemSvc.Hypervisor.Tests.Simulated.Sim;

namespace MemSvc.Hypervisor.Tests.Simulated;

/// <summary>SEMANTICS.md §4 (MF), the data rules of §7 (CV-2, CV-3, CV-5) and LC-3 on the simulated fault path.</summary>
public class FaultPathTests
{
    [Theory]
    [InlineData(VmType.SwProtected)]
    [InlineData(VmType.Snp)]
    [InlineData(VmType.Tdx)]
    public void MF_1_private_access_to_a_shared_page_exits_with_exactly_the_seed_patch_exit(VmType type)
    {
        var (vm, _) = VmWithSlot(type, gpa: 0x40000000);
        var exit = RunProgram(vm, Write(0x40001abc, 3, 1, AccessIntent.Private));
        var fault = Assert.IsType<VmExit.MemoryFault>(exit);
        Assert.Equal((0x40001000UL, 4096UL, MemoryFaultFlags.Private), (fault.Gpa, fault.Size, fault.Flags));
        Assert.Equal(8UL, (ulong)fault.Flags);
    }

    [Fact]
    public void MF_1_shared_access_to_a_private_page_exits_with_flags_0()
    {
        var (vm, _) = VmWithSlot(VmType.Snp);
        vm.SetMemoryAttributes(0x3000, 4096, MemoryAttributes.Private);
        Assert.Equal(new VmExit.MemoryFault(0x3000, 4096, MemoryFaultFlags.None), RunProgram(vm, Check(0x2ff0, 0x20, 0)));
    }

    [Fact]
    public void MF_1_the_exit_repeats_until_converted_and_the_run_resumes_at_the_faulting_page()
    {
        var (vm, gmem) = VmWithSlot(VmType.Tdx);
        vm.SetMemoryAttributes(0, 2 * K4, MemoryAttributes.Private);
        var vcpu = vm.CreateVcpu(0);
        vcpu.LoadProgram(Program(Write(0, 4 * K4, 0x77, AccessIntent.Private), new GuestStep.Halt()));
        Assert.Equal(new VmExit.MemoryFault(2 * K4, 4096, MemoryFaultFlags.Private), vcpu.Run());
        Assert.Equal(new VmExit.MemoryFault(2 * K4, 4096, MemoryFaultFlags.Private), vcpu.Run());
        vm.SetMemoryAttributes(2 * K4, 2 * K4, MemoryAttributes.Private);
        Assert.IsType<VmExit.Halt>(vcpu.Run());
        var data = new byte[4 * K4];
        gmem.Store.Read(0, data);
        Assert.All(data, b => Assert.Equal(0x77, b));
    }

    [Fact]
    public void MF_2_private_access_through_a_slot_without_guest_memfd_exits_private_at_the_slot()
    {
        using var vm = NewHypervisor().CreateSimulatedVm(VmType.SwProtected);
        vm.SetUserMemoryRegion(new MemoryRegion(10, 0, 0xc0000000, K4, SharedBacking.Anonymous));
        vm.SetMemoryAttributes(0xc0000000, K4, MemoryAttributes.Private);
        Assert.Equal(new VmExit.MemoryFault(0xc0000000, 0x1000, MemoryFaultFlags.Private), RunProgram(vm, Check(0xc0000000, 8, 0, AccessIntent.Private)));
    }

    [Fact]
    public void MF_3_private_access_after_the_slot_is_deleted_exits_private_not_mmio()
    {
        var (vm, _) = VmWithSlot(VmType.SwProtected, gpa: 0xc0000000, size: K4);
        vm.SetMemoryAttributes(0xc0000000, K4, MemoryAttributes.Private);
        var vcpu = vm.CreateVcpu(0);
        vcpu.LoadProgram(Program(Check(0xc0000000, 8, 0, AccessIntent.Private), new GuestStep.Report(1), Check(0xc0000000, 8, 0, AccessIntent.Private)));
        Assert.IsType<VmExit.PortIo>(vcpu.Run());
        vm.SetUserMemoryRegion(MemoryRegion.Delete(0));
        Assert.Equal(new VmExit.MemoryFault(0xc0000000, 0x1000, MemoryFaultFlags.Private), vcpu.Run());
    }

    [Fact]
    public void Shared_access_without_a_slot_is_mmio_and_resuming_completes_the_access()
    {
        using var vm = NewHypervisor().CreateSimulatedVm(VmType.Default);
        var vcpu = vm.CreateVcpu(0);
        vcpu.LoadProgram(Program(Write(0x200100, 8, 1), new GuestStep.Report(2)));
        Assert.Equal(new VmExit.Mmio(0x200100, 8, true), vcpu.Run());
        Assert.Equal(new VmExit.PortIo(GuestProgram.ReportPort, true, 4, 2), vcpu.Run());
    }

    [Fact]
    public void Write_to_a_READONLY_slot_is_mmio_and_reads_are_served()
    {
        using var vm = NewHypervisor().CreateSimulatedVm(VmType.Default);
        vm.SetUserMemoryRegion(new MemoryRegion(1, MemoryRegionFlags.ReadOnly, 0x200000, 2 * M, SharedBacking.Anonymous));
        vm.WriteSharedMemory(0x200100, [0xab]);
        var vcpu = vm.CreateVcpu(0);
        vcpu.LoadProgram(Program(Check(0x200100, 1, 0xab), Write(0x200100, 8, 0), Check(0x200100, 1, 0xab), new GuestStep.Halt()));
        Assert.Equal(new VmExit.Mmio(0x200100, 8, true), vcpu.Run());
        Assert.IsType<VmExit.Halt>(vcpu.Run());
    }

    [Fact]
    public void Shared_access_through_a_slot_without_a_shared_side_fails_KVM_RUN_with_EFAULT_until_fixed()
    {
        using var vm = NewHypervisor().CreateSimulatedVm(VmType.Default);
        vm.SetUserMemoryRegion(new MemoryRegion(1, 0, 0x200000, 2 * M, SharedBacking.None));
        vm.SetUserMemoryRegion(new MemoryRegion(2, 0, 0x400000, 2 * M, SharedBacking.At(0x100000000000)));
        var vcpu = vm.CreateVcpu(0);
        vcpu.LoadProgram(Program(Check(0x200100, 1, 0), Check(0x400000, 1, 0), new GuestStep.Halt()));
        var e = Throws(() => vcpu.Run());
        Assert.Equal((Errno.EFAULT, "KVM_RUN"), (e.Errno, e.Operation));
        Assert.Equal(Errno.EFAULT, Throws(() => vcpu.Run()).Errno);
        vm.SetUserMemoryRegion(MemoryRegion.Delete(1));
        vm.SetUserMemoryRegion(new MemoryRegion(1, 0, 0x200000, 2 * M, SharedBacking.Anonymous));
        Assert.Equal(Errno.EFAULT, Throws(() => vcpu.Run()).Errno);
        vm.SetUserMemoryRegion(MemoryRegion.Delete(2));
        Assert.Equal(new VmExit.Mmio(0x400000, 1, false), vcpu.Run());
    }

    [Fact]
    public void Raw_userspace_addr_resolves_to_what_is_mapped_there()
    {
        using var vm = NewHypervisor().CreateSimulatedVm(VmType.Default);
        vm.SetUserMemoryRegion(new MemoryRegion(1, 0, 0x200000, 2 * M, SharedBacking.Anonymous));
        var ua = vm.GetUserspaceAddress(1);
        Assert.True(ua is >= 0x100000000000 and < 0x7ffffffff000 && ua % (2 * M) == 0);
        vm.SetUserMemoryRegion(new MemoryRegion(2, 0, 0x800000, 2 * M, SharedBacking.At(ua)));
        vm.WriteSharedMemory(0x200010, [0x99]);
        Assert.Equal(0x99, ReadShared(vm, 0x800010, 1)[0]);
    }

    [Fact]
    public void CV_2_CV_3_private_writes_never_reach_shared_memory_and_converting_back_exposes_the_old_shared_data()
    {
        var (vm, _) = VmWithSlot(VmType.SwProtected);
        var vcpu = vm.CreateVcpu(0);
        vcpu.LoadProgram(Program(
            Write(0, 2 * K4, 0x11),
            new GuestStep.Report(1),
            Write(0, 2 * K4, 0x22, AccessIntent.Private),
            new GuestStep.Report(2),
            Check(0, 2 * K4, 0x11),
            new GuestStep.Report(3),
            Check(0, 2 * K4, 0x22, AccessIntent.Private),
            new GuestStep.Halt()));
        Assert.Equal(1U, ((VmExit.PortIo)vcpu.Run()).Value);
        vm.SetMemoryAttributes(0, 2 * K4, MemoryAttributes.Private);
        Assert.Equal(2U, ((VmExit.PortIo)vcpu.Run()).Value);
        Assert.All(ReadShared(vm, 0, (int)(2 * K4)), b => Assert.Equal(0x11, b));
        vm.SetMemoryAttributes(0, 2 * K4, MemoryAttributes.None);
        Assert.Equal(3U, ((VmExit.PortIo)vcpu.Run()).Value);
        vm.SetMemoryAttributes(0, 2 * K4, MemoryAttributes.Private);
        Assert.IsType<VmExit.Halt>(vcpu.Run());
    }

    [Fact]
    public void Pattern_mismatch_aborts_with_the_gpa_of_the_first_wrong_byte()
    {
        var (vm, _) = VmWithSlot(VmType.Default);
        vm.WriteSharedMemory(0x1234, [0x5f]);
        var vcpu = vm.CreateVcpu(0);
        vcpu.LoadProgram(Program(Check(0x1000, 0x1000, 0), new GuestStep.Halt()));
        Assert.Equal(new VmExit.GuestAbort(0, GuestAbortReason.PatternMismatch, 0x1234, 0, 0x5f), vcpu.Run());
        Assert.Equal(new VmExit.GuestAbort(0, GuestAbortReason.PatternMismatch, 0x1234, 0, 0x5f), vcpu.Run());
    }

    [Fact]
    public void Default_VM_accesses_are_shared_whatever_the_step_says()
    {
        var (vm, _) = VmWithSlot(VmType.Default);
        Assert.IsType<VmExit.Halt>(RunProgram(vm, Write(0, K4, 0x42, AccessIntent.Private), new GuestStep.Halt()));
        Assert.Equal(0x42, ReadShared(vm, 0, 1)[0]);
    }

    [Fact]
    public void LC_3_MF_4_closing_the_file_while_bound_makes_private_faults_exit_and_shared_ones_still_work()
    {
        var (vm, gmem) = VmWithSlot(VmType.SwProtected);
        vm.SetMemoryAttributes(0, K4, MemoryAttributes.Private);
        var vcpu = vm.CreateVcpu(0);
        vcpu.LoadProgram(Program(Write(0, K4, 1, AccessIntent.Private), new GuestStep.Report(1), Write(K4, K4, 2), Check(0, K4, 1, AccessIntent.Private)));
        Assert.IsType<VmExit.PortIo>(vcpu.Run());
        gmem.Dispose();
        Assert.True(gmem.IsReleased);
        Assert.Equal(MappingLevel.None, vm.GetMappingLevel(0));
        Assert.Equal(new VmExit.MemoryFault(0, 4096, MemoryFaultFlags.Private), vcpu.Run());
        Assert.Equal(2, ReadShared(vm, K4, 1)[0]);
    }

    [Fact]
    public void Gmem_only_slot_with_file_closed_and_unmapped_exits_flags_0_until_deleted_and_rebound()
    {
        using var vm = NewHypervisor().CreateSimulatedVm(VmType.Default);
        var gmem = vm.CreateGuestMemfd(2 * M, GuestMemfdFlags.Mmap | GuestMemfdFlags.InitShared);
        gmem.WriteMapped(0x100, [0xab]);
        vm.SetUserMemoryRegion(new MemoryRegion(1, MemoryRegionFlags.GuestMemfd, 0x200000, 2 * M, SharedBacking.GuestMemfdMapping, gmem, 0));
        var vcpu = vm.CreateVcpu(0);
        vcpu.LoadProgram(Program(Check(0x200100, 1, 0xab), new GuestStep.Report(1), Check(0x200100, 1, 0xcd), new GuestStep.Report(2)));
        Assert.Equal(1U, ((VmExit.PortIo)vcpu.Run()).Value);

        gmem.Dispose();
        Assert.False(((SimulatedGuestMemfd)gmem).IsReleased); // the slot's mapping still holds the file
        vm.UnmapSharedBacking(1);
        Assert.True(((SimulatedGuestMemfd)gmem).IsReleased);
        for (var i = 0; i < 3; i++)
        {
            Assert.Equal(new VmExit.MemoryFault(0x200000, 0x1000, MemoryFaultFlags.None), vcpu.Run());
        }

        vm.SetUserMemoryRegion(MemoryRegion.Delete(1));
        using var fresh = vm.CreateGuestMemfd(2 * M, GuestMemfdFlags.Mmap | GuestMemfdFlags.InitShared);
        fresh.WriteMapped(0x100, [0xcd]);
        vm.SetUserMemoryRegion(new MemoryRegion(1, MemoryRegionFlags.GuestMemfd, 0x200000, 2 * M, SharedBacking.GuestMemfdMapping, fresh, 0));
        Assert.Equal(2U, ((VmExit.PortIo)vcpu.Run()).Value);
    }

    [Fact]
    public void Gmem_only_slot_serves_the_guest_from_the_file_even_with_an_unrelated_userspace_addr()
    {
        using var vm = NewHypervisor().CreateSimulatedVm(VmType.Default);
        using var gmem = vm.CreateGuestMemfd(2 * M, GuestMemfdFlags.Mmap | GuestMemfdFlags.InitShared);
        gmem.WriteMapped(0x100, [0xef]);
        vm.SetUserMemoryRegion(new MemoryRegion(1, MemoryRegionFlags.GuestMemfd, 0x200000, 2 * M, SharedBacking.Anonymous, gmem, 0));
        vm.WriteSharedMemory(0x200100, [0xab]);
        Assert.IsType<VmExit.Halt>(RunProgram(vm, Check(0x200100, 1, 0xef), new GuestStep.Halt()));
    }
}
