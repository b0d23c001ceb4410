using MemSvc.Hypervisor.Simulated;
using static MemSvc.Hypervisor.Tests.Simulated.Sim;

namespace MemSvc.Hypervisor.Tests.Simulated;

/// <summary>SEMANTICS.md §5 (HP) and MF-9 through the model's MMU inspection API.</summary>
public class MappingLevelTests
{
    [Fact]
    public void MF_9_private_mappings_are_4K_with_order_0_folios_and_shared_anonymous_ones_2M()
    {
        var (vm, _) = VmWithSlot(VmType.Snp, gpa: 0, size: 4 * M);
        vm.SetMemoryAttributes(2 * M, 2 * M, MemoryAttributes.Private);
        Assert.IsType<VmExit.Halt>(RunProgram(vm, Write(0, K4, 1), Write(2 * M, K4, 2, AccessIntent.Private), new GuestStep.Halt()));
        Assert.Equal(MappingLevel.Page2M, vm.GetMappingLevel(M));
        Assert.Equal(MappingLevel.Page4K, vm.GetMappingLevel(2 * M));
        Assert.Equal(MappingLevel.None, vm.GetMappingLevel((2 * M) + K4));
        Assert.Equal(512UL + 1, vm.MappedPageCount);
    }

    [Fact]
    public void MF_9_order_9_folios_map_private_memory_at_2M()
    {
        var hv = new SimulatedHypervisor(new SimulatedHypervisorOptions { GuestMemfdFolioOrder = 9 });
        var (vm, _) = VmWithSlot(VmType.Snp, size: 4 * M, hv: hv);
        vm.SetMemoryAttributes(0, 4 * M, MemoryAttributes.Private);
        Assert.IsType<VmExit.Halt>(RunProgram(vm, Write(K4, 1, 2, AccessIntent.Private), new GuestStep.Halt()));
        Assert.Equal(MappingLevel.Page2M, vm.GetMappingLevel(0));
    }

    [Fact]
    public void HP_1_HP_3_HP_5_mixed_attributes_forbid_a_huge_mapping_until_the_region_is_uniform_again()
    {
        var (vm, _) = VmWithSlot(VmType.SwProtected, size: 4 * M);
        var vcpu = vm.CreateVcpu(0);
        vcpu.LoadProgram(Program(Check(0, 1, 0), new GuestStep.Report(1), Check(0, 1, 0), new GuestStep.Report(2), Check(M, 1, 0), new GuestStep.Halt()));
        Assert.IsType<VmExit.PortIo>(vcpu.Run());
        Assert.Equal(MappingLevel.Page2M, vm.GetMappingLevel(0));

        vm.SetMemoryAttributes(M, K4, MemoryAttributes.Private);   // HP-5: zaps the 2M mapping that covers it
        Assert.Equal(MappingLevel.None, vm.GetMappingLevel(0));
        Assert.IsType<VmExit.PortIo>(vcpu.Run());
        Assert.Equal(MappingLevel.Page4K, vm.GetMappingLevel(0)); // HP-1: the region is mixed

        // HP-3: uniform again. The 4K mapping of page 0 stays (nothing zapped it), but the next fault in the
        // region, on the page the change zapped, maps the whole 2M.
        vm.SetMemoryAttributes(M, K4, MemoryAttributes.None);
        Assert.Equal(MappingLevel.Page4K, vm.GetMappingLevel(0));
        Assert.IsType<VmExit.Halt>(vcpu.Run());
        Assert.Equal(MappingLevel.Page2M, vm.GetMappingLevel(0));
    }

    [Fact]
    public void HP_2_regions_not_wholly_inside_the_slot_are_never_huge()
    {
        using var vm = NewHypervisor().CreateSimulatedVm(VmType.Default);
        vm.SetUserMemoryRegion(new MemoryRegion(1, 0, 0, 3 * M, SharedBacking.Anonymous));
        Assert.IsType<VmExit.Halt>(RunProgram(vm, Check(0, 1, 0), Check(2 * M, 1, 0), new GuestStep.Halt()));
        Assert.Equal(MappingLevel.Page2M, vm.GetMappingLevel(0));
        Assert.Equal(MappingLevel.Page4K, vm.GetMappingLevel(2 * M));
    }

    [Fact]
    public void A_gpa_not_congruent_with_its_backing_modulo_2M_is_never_huge()
    {
        using var vm = NewHypervisor().CreateSimulatedVm(VmType.Default);
        vm.SetUserMemoryRegion(new MemoryRegion(1, 0, M, 5 * M, SharedBacking.Anonymous));
        Assert.IsType<VmExit.Halt>(RunProgram(vm, Check(2 * M, 1, 0), new GuestStep.Halt()));
        Assert.Equal(MappingLevel.Page4K, vm.GetMappingLevel(2 * M));
    }

    [Fact]
    public void Dirty_logging_keeps_mappings_at_4K()
    {
        using var vm = NewHypervisor().CreateSimulatedVm(VmType.Default);
        vm.SetUserMemoryRegion(new MemoryRegion(1, MemoryRegionFlags.LogDirtyPages, 0, 2 * M, SharedBacking.Anonymous));
        Assert.IsType<VmExit.Halt>(RunProgram(vm, Check(0, 1, 0), new GuestStep.Halt()));
        Assert.Equal(MappingLevel.Page4K, vm.GetMappingLevel(0));
    }

    [Fact]
    public void Deleting_a_slot_or_discarding_shared_memory_zaps()
    {
        using var vm = NewHypervisor().CreateSimulatedVm(VmType.Default);
        vm.SetUserMemoryRegion(new MemoryRegion(1, 0, 0, 4 * M, SharedBacking.Anonymous));
        Assert.IsType<VmExit.Halt>(RunProgram(vm, Write(0, 4 * M, 7), new GuestStep.Halt()));
        Assert.Equal(1024UL, vm.MappedPageCount);
        vm.DiscardSharedMemory(2 * M, K4);
        Assert.Equal(512UL, vm.MappedPageCount);
        Assert.Equal(0, ReadShared(vm, 2 * M, 1)[0]);
        Assert.Equal(7, ReadShared(vm, (2 * M) + K4, 1)[0]);
        vm.SetUserMemoryRegion(MemoryRegion.Delete(1));
        Assert.Equal(0UL, vm.MappedPageCount);
    }

    [Fact]
    public void Discarding_a_GiB_of_shared_memory_is_one_invalidation_as_madvise_makes_it_and_allocates_next_to_nothing()
    {
        using var vm = NewHypervisor().CreateSimulatedVm(VmType.Default);
        vm.SetUserMemoryRegion(new MemoryRegion(1, 0, 0, 1024 * M, SharedBacking.Anonymous));
        Assert.IsType<VmExit.Halt>(RunProgram(vm, Write(0, 4 * M, 7), Write(512 * M, K4, 8), new GuestStep.Halt()));
        var flushes = vm.FlushCount;

        var allocated = GC.GetAllocatedBytesForCurrentThread();
        vm.DiscardSharedMemory(0, 1024 * M);
        allocated = GC.GetAllocatedBytesForCurrentThread() - allocated;

        // Page by page it was 3 flushes here (each page zapped alone), and the fairness benchmark's 4 GiB conversions
        // allocated ~200 MB each, whose GC pauses stalled other owners' calls.
        Assert.Equal(flushes + 1, vm.FlushCount);
        Assert.InRange(allocated, 0, 64 * 1024);
        Assert.Equal(0UL, vm.MappedPageCount);
        Assert.Equal(0, ReadShared(vm, 512 * M, 1)[0]);
    }
}
