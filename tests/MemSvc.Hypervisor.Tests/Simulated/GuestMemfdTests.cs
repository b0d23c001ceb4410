using MemSvc.Hypervisor.Simulated;
using static MemSvc.Hypervisor.Tests.Simulated.Sim;

namespace MemSvc.Hypervisor.Tests.Simulated;

/// <summary>SEMANTICS.md §1 (GM, MM, FA) and the guest_memfd side of §8 (LC) on the simulated backend.</summary>
public class GuestMemfdTests
{
    private const FallocateMode Punch = FallocateMode.PunchHole | FallocateMode.KeepSize;

    [Theory]
    [InlineData(1UL)]
    [InlineData(4095UL)]
    [InlineData(4097UL)]
    public void GM_1_unaligned_sizes_are_EINVAL_on_size(ulong size)
    {
        using var vm = NewHypervisor().CreateSimulatedVm(VmType.Default);
        var e = Throws(() => vm.CreateGuestMemfd(size, 0));
        Assert.Equal((Errno.EINVAL, "KVM_CREATE_GUEST_MEMFD", "size"), (e.Errno, e.Operation, e.Argument));
    }

    [Theory]
    [InlineData(0UL)]
    [InlineData(1UL << 63)]
    [InlineData(0xfffffffffffff000UL)]
    public void GM_2_zero_and_negative_loff_t_sizes_are_EINVAL(ulong size)
    {
        using var vm = NewHypervisor().CreateSimulatedVm(VmType.Default);
        Assert.Equal("size", Throws(() => vm.CreateGuestMemfd(size, 0)).Argument);
    }

    [Fact]
    public void GM_3_every_unsupported_flag_bit_is_EINVAL_and_flags_are_checked_before_size()
    {
        using var vm = NewHypervisor().CreateSimulatedVm(VmType.Default);
        for (var bit = 2; bit < 64; bit++)
        {
            var e = Throws(() => vm.CreateGuestMemfd(0, (GuestMemfdFlags)(1UL << bit)));
            Assert.Equal((Errno.EINVAL, "flags"), (e.Errno, e.Argument));
        }
    }

    [Theory]
    [InlineData(VmType.Default, GuestMemfdFlags.Mmap | GuestMemfdFlags.InitShared)]
    [InlineData(VmType.SwProtected, GuestMemfdFlags.Mmap)]
    [InlineData(VmType.Snp, GuestMemfdFlags.Mmap)]
    [InlineData(VmType.Tdx, GuestMemfdFlags.Mmap)]
    public void GM_4_supported_flags_depend_on_the_VM_type(VmType type, GuestMemfdFlags supported)
    {
        using var vm = NewHypervisor().CreateSimulatedVm(type);
        Assert.Equal(supported, vm.Capabilities.GuestMemfdFlags);
        foreach (var flags in new[] { GuestMemfdFlags.None, GuestMemfdFlags.Mmap, GuestMemfdFlags.InitShared, GuestMemfdFlags.Mmap | GuestMemfdFlags.InitShared })
        {
            if ((flags & ~supported) == 0)
            {
                vm.CreateGuestMemfd(4096, flags).Dispose();
            }
            else
            {
                Assert.Equal(Errno.EINVAL, Throws(() => vm.CreateGuestMemfd(4096, flags)).Errno);
            }
        }
    }

    [Fact]
    public void GM_6_files_keep_their_sizes_and_get_distinct_inodes()
    {
        using var vm = NewHypervisor().CreateSimulatedVm(VmType.Default);
        using var a = vm.CreateGuestMemfd(4096, 0);
        using var b = vm.CreateGuestMemfd(8192, 0);
        Assert.Equal((4096UL, 8192UL), (a.Size, b.Size));
        Assert.NotEqual(a.Inode, b.Inode);
    }

    [Fact]
    public void GM_10_LC_1_the_file_outlives_its_VM()
    {
        var vm = NewHypervisor().CreateSimulatedVm(VmType.SwProtected);
        using var gmem = vm.CreateGuestMemfd(4 * M, 0);
        vm.SetUserMemoryRegion(new MemoryRegion(0, MemoryRegionFlags.GuestMemfd, 0, 4 * M, SharedBacking.Anonymous, gmem, 0));
        vm.Dispose();
        gmem.Fallocate(Punch, 0, (long)(4 * M));
        gmem.Fallocate(FallocateMode.KeepSize, 0, (long)(4 * M));
        Assert.Equal(4 * M, ((SimulatedGuestMemfd)gmem).AllocatedBytes);
        Assert.Equal(Errno.EBADF, Throws(() => vm.CreateGuestMemfd(4096, 0)).Errno);
    }

    [Fact]
    public void MM_1_without_MMAP_the_host_cannot_map_the_file()
    {
        using var vm = NewHypervisor().CreateSimulatedVm(VmType.Default);
        using var gmem = vm.CreateGuestMemfd(2 * M, GuestMemfdFlags.InitShared);
        var e = Throws(() => gmem.WriteMapped(0, [1]));
        Assert.Equal((Errno.ENODEV, "mmap"), (e.Errno, e.Operation));
    }

    [Fact]
    public void MM_3_MM_4_shared_file_reads_back_and_a_punched_page_reads_zero_while_the_rest_keeps_the_pattern()
    {
        using var vm = NewHypervisor().CreateSimulatedVm(VmType.Default);
        using var gmem = vm.CreateGuestMemfd(4 * K4, GuestMemfdFlags.Mmap | GuestMemfdFlags.InitShared);
        var pattern = Enumerable.Repeat((byte)0xa5, (int)(4 * K4)).ToArray();
        gmem.WriteMapped(0, pattern);
        gmem.Fallocate(Punch, 0, (long)K4);
        var back = new byte[4 * K4];
        gmem.ReadMapped(0, back);
        Assert.All(back[..(int)K4], b => Assert.Equal(0, b));
        Assert.All(back[(int)K4..], b => Assert.Equal(0xa5, b));
        gmem.WriteMapped(0, [0x11]);
        gmem.ReadMapped(0, back.AsSpan(0, 1));
        Assert.Equal(0x11, back[0]);
    }

    [Fact]
    public void MM_5_accesses_at_or_after_the_end_of_the_file_fault_and_change_nothing()
    {
        using var vm = NewHypervisor().CreateSimulatedVm(VmType.Default);
        using var gmem = vm.CreateGuestMemfd(2 * K4, GuestMemfdFlags.Mmap | GuestMemfdFlags.InitShared);
        Assert.Equal(Errno.EFAULT, Throws(() => gmem.WriteMapped((2 * K4) - 1, [1, 2])).Errno);
        Assert.Equal(Errno.EFAULT, Throws(() => gmem.ReadMapped(2 * K4, new byte[1])).Errno);
        var last = new byte[1];
        gmem.ReadMapped((2 * K4) - 1, last);
        Assert.Equal(0, last[0]);
    }

    [Theory]
    [InlineData(VmType.Default)]
    [InlineData(VmType.Snp)]
    public void MM_6_MMAP_without_INIT_SHARED_is_private_and_every_host_access_faults(VmType type)
    {
        using var vm = NewHypervisor().CreateSimulatedVm(type);
        using var gmem = vm.CreateGuestMemfd(2 * K4, GuestMemfdFlags.Mmap);
        Assert.Equal(Errno.EFAULT, Throws(() => gmem.ReadMapped(0, new byte[1])).Errno);
        Assert.Equal(Errno.EFAULT, Throws(() => gmem.WriteMapped(K4, [1])).Errno);
    }

    [Fact]
    public void MM_9_a_gmem_only_slot_serves_the_guest_from_the_file_and_the_host_sees_the_guest_writes()
    {
        using var vm = NewHypervisor().CreateSimulatedVm(VmType.Default);
        using var gmem = vm.CreateGuestMemfd(4 * K4, GuestMemfdFlags.Mmap | GuestMemfdFlags.InitShared);
        vm.SetUserMemoryRegion(new MemoryRegion(1, MemoryRegionFlags.GuestMemfd, 4 * G, 4 * K4, SharedBacking.GuestMemfdMapping, gmem, 0));
        gmem.WriteMapped(0, Enumerable.Repeat((byte)0xaa, (int)(4 * K4)).ToArray());
        Assert.IsType<VmExit.Halt>(RunProgram(vm, Check(4 * G, 4 * K4, 0xaa), Write(4 * G, 4 * K4, 0xff), new GuestStep.Halt()));
        var back = new byte[4 * K4];
        gmem.ReadMapped(0, back);
        Assert.All(back, b => Assert.Equal(0xff, b));
        Assert.Equal(0xff, ReadShared(vm, (4 * G) + 5, 1)[0]);
    }

    [Fact]
    public void FA_7_FA_9_punching_beyond_the_end_succeeds_and_punch_then_allocate_both_succeed()
    {
        using var vm = NewHypervisor().CreateSimulatedVm(VmType.Default);
        using var gmem = (SimulatedGuestMemfd)vm.CreateGuestMemfd(4 * K4, 0);
        gmem.Fallocate(FallocateMode.KeepSize, 0, (long)(4 * K4));
        gmem.Fallocate(Punch, (long)(4 * K4), (long)K4);
        gmem.Fallocate(Punch, (long)(5 * K4), (long)K4);
        Assert.Equal(4 * K4, gmem.AllocatedBytes);
        gmem.Fallocate(Punch, (long)K4, (long)K4);
        Assert.Equal(3 * K4, gmem.AllocatedBytes);
        gmem.Fallocate(FallocateMode.KeepSize, (long)K4, (long)K4);
        Assert.Equal(4 * K4, gmem.AllocatedBytes);
    }

    [Theory]
    [InlineData(0L, 1L)]
    [InlineData(0L, 4095L)]
    [InlineData(0L, 4097L)]
    [InlineData(1L, 1L)]
    [InlineData(1L, 4095L)]
    [InlineData(1L, 4096L)]
    [InlineData(1L, 4097L)]
    [InlineData(4096L, 1L)]
    [InlineData(4096L, 4095L)]
    [InlineData(4096L, 4097L)]
    public void FA_4_unaligned_punch_holes_are_EINVAL(long offset, long length)
    {
        using var vm = NewHypervisor().CreateSimulatedVm(VmType.Default);
        using var gmem = vm.CreateGuestMemfd(4 * K4, 0);
        var e = Throws(() => gmem.Fallocate(Punch, offset, length));
        Assert.Equal((Errno.EINVAL, "fallocate"), (e.Errno, e.Operation));
        Assert.Equal((offset & 4095) != 0 ? "offset" : "len", e.Argument);
    }

    [Fact]
    public void FA_11_punching_a_private_page_zaps_its_mapping_and_the_guest_then_reads_zero()
    {
        var (vm, gmem) = VmWithSlot(VmType.SwProtected);
        vm.SetMemoryAttributes(0, 2 * K4, MemoryAttributes.Private);
        var vcpu = vm.CreateSimulatedVcpu(0);
        vcpu.LoadProgram(Program(Write(0, 2 * K4, 0x42, AccessIntent.Private), new GuestStep.Report(1), Check(0, K4, 0, AccessIntent.Private), Check(K4, K4, 0x42, AccessIntent.Private), new GuestStep.Halt()));
        Assert.IsType<VmExit.PortIo>(vcpu.Run());
        Assert.Equal(MappingLevel.Page4K, vm.GetMappingLevel(0));
        gmem.Fallocate(Punch, 0, (long)K4);
        Assert.Equal(MappingLevel.None, vm.GetMappingLevel(0));
        Assert.Equal(MappingLevel.Page4K, vm.GetMappingLevel(K4));
        Assert.IsType<VmExit.Halt>(vcpu.Run());
    }

    [Fact]
    public void Closed_file_refuses_fallocate_and_mapping_with_EBADF()
    {
        using var vm = NewHypervisor().CreateSimulatedVm(VmType.Default);
        var gmem = vm.CreateGuestMemfd(4 * K4, GuestMemfdFlags.Mmap | GuestMemfdFlags.InitShared);
        gmem.Dispose();
        Assert.True(gmem.IsClosed);
        Assert.Equal(Errno.EBADF, Throws(() => gmem.Fallocate(Punch, 0, 4096)).Errno);
        Assert.Equal(Errno.EBADF, Throws(() => gmem.ReadMapped(0, new byte[1])).Errno);
    }

    [Fact]
    public void Uniform_guest_writes_over_a_GiB_store_runs_not_pages()
    {
        var (vm, gmem) = VmWithSlot(VmType.Snp, size: G);
        vm.SetMemoryAttributes(0, G, MemoryAttributes.Private);
        Assert.IsType<VmExit.Halt>(RunProgram(vm, Write(0, G, 0x3c, AccessIntent.Private), new GuestStep.Halt()));
        Assert.Equal(0, gmem.Store.BufferedPageCount);
        Assert.Equal(1, gmem.Store.FillRunCount);
        Assert.Equal(G, gmem.AllocatedBytes);
    }
}
