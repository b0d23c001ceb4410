using MemSvc.Hypervisor.Simulated;
using static MemSvc.Hypervisor.Tests.Simulated.Sim;

namespace MemSvc.Hypervisor.Tests.Simulated;

/// <summary>SEMANTICS.md §2 (MS) beyond the errno table: the field at fault, atomicity, shared sides, cost.</summary>
public class MemslotTests
{
    private const MemoryRegionFlags Gmf = MemoryRegionFlags.GuestMemfd;

    [Theory]
    [InlineData(0x1000UL, 0x1800UL, 0UL, "memory_size")]
    [InlineData(0x800UL, 0x1000UL, 0UL, "guest_phys_addr")]
    [InlineData(0x1000UL, 0x1000UL, 0x10UL, "guest_memfd_offset")]
    public void MS_6_MS_7_alignment_errors_name_their_field(ulong gpa, ulong size, ulong offset, string argument)
    {
        var (vm, gmem) = VmWithSlot(VmType.Snp, gpa: 64 * M);
        var e = Throws(() => vm.SetUserMemoryRegion(new MemoryRegion(1, Gmf, gpa, size, SharedBacking.Anonymous, gmem, offset)));
        Assert.Equal((Errno.EINVAL, "KVM_SET_USER_MEMORY_REGION2", argument), (e.Errno, e.Operation, e.Argument));
    }

    [Fact]
    public void MS_9_slot_id_and_address_space_errors_name_slot_and_MS_14_overlap_names_the_gpa()
    {
        var (vm, gmem) = VmWithSlot(VmType.Snp);
        Assert.Equal("slot", Throws(() => vm.SetUserMemoryRegion(new MemoryRegion(32764, 0, 64 * M, M, SharedBacking.Anonymous))).Argument);
        var e = Throws(() => vm.SetUserMemoryRegion(new MemoryRegion(1, 0, M, M, SharedBacking.Anonymous)));
        Assert.Equal((Errno.EEXIST, "guest_phys_addr"), (e.Errno, e.Argument));
    }

    [Theory]
    [InlineData(VmType.SwProtected)]
    [InlineData(VmType.Snp)]
    [InlineData(VmType.Tdx)]
    public void MS_5_MS_20_private_VM_types_bind_disjoint_ranges_of_one_file(VmType type)
    {
        using var vm = NewHypervisor().CreateSimulatedVm(type);
        using var gmem = vm.CreateGuestMemfd(10 * M, 0);
        vm.SetUserMemoryRegion(new MemoryRegion(1, Gmf, 0xc0000000, 4 * M, SharedBacking.Anonymous, gmem, 0));
        vm.SetUserMemoryRegion(new MemoryRegion(2, Gmf, 0x180000000, 4 * M, SharedBacking.Anonymous, gmem, 4 * M));
        Assert.Equal(2, vm.MemslotCount);
    }

    [Fact]
    public void MS_19_overlapping_guest_memfd_range_is_this_machines_EINVAL_and_LC_4_deleting_frees_the_range()
    {
        var (vm, gmem) = VmWithSlot(VmType.Snp, size: 2 * M);
        var e = Throws(() => vm.SetUserMemoryRegion(new MemoryRegion(1, Gmf, 64 * M, M, SharedBacking.Anonymous, gmem, M)));
        Assert.Equal((Errno.EINVAL, "guest_memfd_offset"), (e.Errno, e.Argument));
        vm.SetUserMemoryRegion(MemoryRegion.Delete(0));
        vm.SetUserMemoryRegion(new MemoryRegion(1, Gmf, 64 * M, M, SharedBacking.Anonymous, gmem, M));
    }

    [Fact]
    public void A_failed_call_changes_nothing_and_leaks_no_mapping()
    {
        var hv = NewHypervisor();
        var (vm, gmem) = VmWithSlot(VmType.Snp, hv: hv);
        Assert.Equal(1, hv.UserMappingCount);
        Throws(() => vm.SetUserMemoryRegion(new MemoryRegion(1, Gmf, 64 * M, 2 * M, SharedBacking.Anonymous, gmem, 0)));
        Throws(() => vm.SetUserMemoryRegion(new MemoryRegion(1, Gmf, 1UL << 52, 2 * M, SharedBacking.Anonymous, gmem, 2 * M)));
        Assert.Equal((1, 1), (vm.MemslotCount, hv.UserMappingCount));
        using var other = vm.CreateGuestMemfd(2 * M, 0);
        vm.SetUserMemoryRegion(new MemoryRegion(1, Gmf, 64 * M, 2 * M, SharedBacking.Anonymous, other, 0));
        Assert.Equal((2, 2), (vm.MemslotCount, hv.UserMappingCount));
    }

    [Fact]
    public void Plain_slot_keeps_its_anonymous_memory_when_moved_or_given_new_flags()
    {
        using var vm = NewHypervisor().CreateSimulatedVm(VmType.Default);
        vm.SetUserMemoryRegion(new MemoryRegion(1, 0, 0, 2 * M, SharedBacking.Anonymous));
        vm.WriteSharedMemory(0x10, [0x42]);
        vm.SetUserMemoryRegion(new MemoryRegion(1, 0, 8 * M, 2 * M, SharedBacking.Anonymous));
        vm.SetUserMemoryRegion(new MemoryRegion(1, MemoryRegionFlags.LogDirtyPages, 8 * M, 2 * M, SharedBacking.Anonymous));
        Assert.Equal(0x42, ReadShared(vm, (8 * M) + 0x10, 1)[0]);
        Assert.Equal(Errno.EFAULT, Throws(() => vm.ReadSharedMemory(0x10, new byte[1])).Errno);
        Assert.Equal(Errno.EINVAL, Throws(() => vm.SetUserMemoryRegion(new MemoryRegion(1, MemoryRegionFlags.ReadOnly, 8 * M, 2 * M, SharedBacking.Anonymous))).Errno);
    }

    [Fact]
    public void GuestMemfdMapping_needs_an_open_mmap_able_file()
    {
        using var vm = NewHypervisor().CreateSimulatedVm(VmType.Default);
        using var plain = vm.CreateGuestMemfd(2 * M, 0);
        var e = Throws(() => vm.SetUserMemoryRegion(new MemoryRegion(1, Gmf, 0, 2 * M, SharedBacking.GuestMemfdMapping, plain, 0)));
        Assert.Equal((Errno.ENODEV, "mmap"), (e.Errno, e.Operation));
        Assert.Equal(Errno.EBADF, Throws(() => vm.SetUserMemoryRegion(new MemoryRegion(1, Gmf, 0, 2 * M, SharedBacking.GuestMemfdMapping))).Errno);
    }

    [Fact]
    public void UnmapSharedBacking_drops_the_shared_side_and_a_missing_slot_is_EINVAL()
    {
        var (vm, _) = VmWithSlot(VmType.Default);
        vm.WriteSharedMemory(0, [1]);
        vm.UnmapSharedBacking(0);
        Assert.Equal(Errno.EFAULT, Throws(() => vm.ReadSharedMemory(0, new byte[1])).Errno);
        Assert.Equal(Errno.EINVAL, Throws(() => vm.UnmapSharedBacking(3)).Errno);
        Assert.Equal(Errno.EFAULT, Throws(() => RunProgram(vm, Check(0, 1, 1))).Errno);
    }

    [Fact]
    public void A_VM_with_an_untouched_GiB_guest_memfd_bound_costs_a_few_KiB()
    {
        var hv = NewHypervisor();
        VmWithSlot(VmType.Snp, hv: hv).Vm.Dispose(); // warm up the code paths, so that only data is counted
        var before = GC.GetAllocatedBytesForCurrentThread();
        var (vm, gmem) = VmWithSlot(VmType.Snp, size: G, hv: hv);
        vm.CreateVcpu(0);
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.InRange(allocated, 1, 16 * 1024);
        GC.KeepAlive(gmem);
    }

    [Fact]
    public void Closing_a_VM_frees_the_written_pages_of_its_anonymous_shared_memory()
    {
        var (vm, _) = VmWithSlot(VmType.Snp, size: M);
        var written = new byte[64 * K4];
        new Random(7).NextBytes(written);
        vm.WriteSharedMemory(0, written);
        var shared = ((AnonymousMapping)vm.FindSlot(0)!.OwnedMapping!).Store;
        var before = shared.BufferedPageCount;

        // munmap frees the pages then, as the kernel does, not whenever the last reference to the mapping goes.
        vm.Dispose();

        Assert.Equal(64, before);
        Assert.Equal((0, 0), (shared.BufferedPageCount, shared.FillRunCount));
    }
}
