using MemSvc.Hypervisor.Simulated;
using static MemSvc.Hypervisor.Tests.Simulated.Sim;

namespace MemSvc.Hypervisor.Tests.Simulated;

/// <summary>
/// A simulated VM exported and adopted by another hypervisor (issue 16's planned handoff) is the same VM: memory on
/// both sides, attributes, memslots at the same user addresses, files closed or mapped as they were, and vCPUs that
/// go on where they stopped.
/// </summary>
public class HandoffStateTests
{
    [Fact]
    public void An_adopted_VM_holds_the_same_memory_attributes_and_slots_and_its_vCPUs_go_on_where_they_stopped()
    {
        var (vm, gmem) = VmWithSlot(VmType.SwProtected, size: 4 * M);
        var shared = new byte[5000];
        new Random(7).NextBytes(shared);
        vm.WriteSharedMemory(0x3005, shared);
        vm.SetMemoryAttributes(M, M, MemoryAttributes.Private);
        gmem.Fallocate(FallocateMode.KeepSize, (long)(3 * M), (long)(64 * K4));

        // A second file bound without a shared side, its fd closed since (released: LC-3); a third slot whose shared
        // side was unmapped.
        var closed = vm.CreateSimulatedGuestMemfd(M, GuestMemfdFlags.None);
        vm.SetUserMemoryRegion(new MemoryRegion(1, MemoryRegionFlags.GuestMemfd, 8 * M, M, SharedBacking.None, closed, 0));
        closed.Dispose();
        vm.SetUserMemoryRegion(new MemoryRegion(2, MemoryRegionFlags.None, 16 * M, M, SharedBacking.Anonymous));
        vm.UnmapSharedBacking(2);

        // vCPU 0 writes private data and halts; vCPU 1 stops at a memory fault half way through its first step.
        var done = vm.CreateSimulatedVcpu(0);
        done.LoadProgram(Program(Write(M, 16 * K4, 0xab, AccessIntent.Private), new GuestStep.Halt()));
        Assert.IsType<VmExit.Halt>(done.Run());
        var faulting = vm.CreateSimulatedVcpu(1);
        faulting.LoadProgram(Program(Write((2 * M) - (2 * K4), 4 * K4, 0xcd, AccessIntent.Private), Check((2 * M) - (2 * K4), 4 * K4, 0xcd, AccessIntent.Private), Check(M, 16 * K4, 0xab, AccessIntent.Private), new GuestStep.Halt()));
        Assert.Equal(new VmExit.MemoryFault(2 * M, K4, MemoryFaultFlags.Private), faulting.Run());

        var state = vm.Export([gmem]);
        var (adopted, files, vcpus) = new SimulatedHypervisor().Adopt(state);

        Assert.Equal(ReadShared(vm, 0, (int)M), ReadShared(adopted, 0, (int)M));
        Assert.Equal(vm.GetMemoryAttributes(0, 32 * M), adopted.GetMemoryAttributes(0, 32 * M));
        Assert.Equal(3, adopted.MemslotCount);
        Assert.Equal([vm.GetUserspaceAddress(0), vm.GetUserspaceAddress(1), vm.GetUserspaceAddress(2)], [adopted.GetUserspaceAddress(0), adopted.GetUserspaceAddress(1), adopted.GetUserspaceAddress(2)]);
        Assert.Equal(gmem.AllocatedBytes, files[gmem.Inode].AllocatedBytes);
        // The second file was released when its fd closed (no mmap held it), its binding nulled: nothing to move.
        Assert.Equal([gmem.Inode], files.Keys);
        Assert.False(files[gmem.Inode].IsClosed);
        Assert.Equal(Errno.EFAULT, Throws(() => ReadShared(adopted, 16 * M, 1)).Errno);

        // The halted vCPU stays halted; the faulting one retries its page once the page is private, and its checks
        // (of its own data and of the other vCPU's private data) pass.
        Assert.IsType<VmExit.Halt>(vcpus[0].Run());
        adopted.SetMemoryAttributes(2 * M, 2 * K4, MemoryAttributes.Private);
        Assert.IsType<VmExit.Halt>(vcpus[1].Run());
    }

    [Fact]
    public void A_file_mapped_as_a_shared_side_moves_with_its_contents_and_the_mapping_keeps_it_alive_after_its_fd_closed()
    {
        var hypervisor = new SimulatedHypervisor();
        var vm = hypervisor.CreateSimulatedVm(VmType.Default);
        var gmem = vm.CreateSimulatedGuestMemfd(2 * M, GuestMemfdFlags.Mmap | GuestMemfdFlags.InitShared);
        vm.SetUserMemoryRegion(new MemoryRegion(0, MemoryRegionFlags.GuestMemfd, 0, 2 * M, SharedBacking.GuestMemfdMapping, gmem, 0));
        vm.WriteSharedMemory(K4 + 3, [1, 2, 3, 4, 5]);
        gmem.Dispose();

        var (adopted, files, _) = new SimulatedHypervisor().Adopt(vm.Export([]));
        var file = files[gmem.Inode];

        Assert.Equal(ReadShared(vm, 0, (int)(2 * K4)), ReadShared(adopted, 0, (int)(2 * K4)));
        Assert.Equal((true, false), (file.IsClosed, file.IsReleased));
        adopted.SetUserMemoryRegion(MemoryRegion.Delete(0));
        Assert.True(file.IsReleased);
    }

    [Fact]
    public void A_state_of_another_host_profile_is_refused_and_leaves_nothing_mapped()
    {
        var (vm, gmem) = VmWithSlot(VmType.Default);
        var state = vm.Export([gmem]);
        var other = NewHypervisor("kvm-7.2-debian");

        Assert.Equal(Errno.EINVAL, Throws(() => other.Adopt(state)).Errno);
        Assert.Equal(0, other.UserMappingCount);
    }
}
