using MemSvc.Hypervisor.Tests.Capabilities;

namespace MemSvc.Hypervisor.Tests.Conformance;

/// <summary>
/// Answers that follow from how the kernel computes rather than from a rule anyone wrote down (issue 12: "the
/// simulator's answers for a profile must match that kernel exactly, its quirks included"), backend-agnostic, so
/// that the simulated profiles and a real kernel answer the same rows. Measured on Debian's 6.18.15 (kvm_amd,
/// nested; tests/kvm-host with NKVM_KERNEL_FROM=trixie-backports) and 7.2.13: do_mmap's order of checks (length,
/// get_unmapped_area, file_mmap_ok, then the file's ->mmap) is the same on both; kvm_gmem_bind's loff_t wrap is
/// 6.18's only (<see cref="HostShape.GmemBindSumWraps"/>). Every slot here is small; each row runs on a fresh VM.
/// </summary>
public abstract class KernelQuirkConformance
{
    private const ulong K4 = 4096;
    private const ulong M2 = 2UL << 20;
    private const MemoryRegionFlags Gmf = MemoryRegionFlags.GuestMemfd;
    private const string Region2 = "KVM_SET_USER_MEMORY_REGION2";

    /// <summary>The highest page-aligned loff_t: offset + size reaches 2^63 for any size.</summary>
    private const ulong TopOffset = 0x7fff_ffff_ffff_f000;

    public static TheoryData<ulong> WrappingSizes => [K4, 2 * K4, M2];

    public static TheoryData<ulong, ulong> RefusedRanges =>
    [
        (TopOffset - K4, K4),                  // ends at 2^63 - 4 KiB: no wrap, past the 2 MiB file
        (0x8000_0000_0000_0000UL, K4),        // a negative loff_t
        (0xffff_ffff_ffff_f000UL, 2 * K4),    // offset + size wraps u64
    ];

    public static TheoryData<GuestMemfdFlags> MappingFlags => [GuestMemfdFlags.None, GuestMemfdFlags.Mmap | GuestMemfdFlags.InitShared];

    public static TheoryData<GuestMemfdFlags, ulong, ulong> OverflowingMappings =>
    [
        .. new[] { GuestMemfdFlags.None, GuestMemfdFlags.Mmap | GuestMemfdFlags.InitShared }.SelectMany(flags => new[]
        {
            (flags, TopOffset, K4),                    // ends at 2^63
            (flags, TopOffset - K4, 2 * K4),           // ends at 2^63 too
            (flags, 0x8000_0000_0000_0000UL, K4),     // starts past it
            (flags, 0xffff_ffff_ffff_f000UL, K4),
        }),
    ];

    protected abstract IHypervisor CreateHypervisor();

    // 6.18's kvm_gmem_bind checks `offset + size > i_size_read(inode)` in loff_t, and the kernel is built with
    // -fno-strict-overflow: a sum past 2^63 wraps negative and passes, whatever the file's size. The u64 check of
    // __kvm_set_memory_region (offset + size < offset) does not fire either, as the sum is below 2^64. 7.2.13
    // refuses the same range with EINVAL.
    [Theory]
    [MemberData(nameof(WrappingSizes))]
    public void A_guest_memfd_offset_whose_end_crosses_2_63_binds_where_the_kernels_loff_t_sum_wraps_else_EINVAL(ulong size)
    {
        using var hv = CreateHypervisor();
        HostRequirements.Require(hv, HostNeed.GuestMemfd);
        var wraps = HostShape.Of(hv).GmemBindSumWraps;
        using var vm = hv.CreateVm(VmType.Default);
        using var gmem = vm.CreateGuestMemfd(M2, GuestMemfdFlags.None);
        var region = new MemoryRegion(1, Gmf, 0, size, SharedBacking.Anonymous, gmem, TopOffset);

        if (wraps)
        {
            vm.SetUserMemoryRegion(region);
            vm.SetUserMemoryRegion(new MemoryRegion(1, 0, 0, 0, SharedBacking.None, null, 0));
        }
        else
        {
            var e = Assert.Throws<HypervisorException>(() => vm.SetUserMemoryRegion(region));
            Assert.Equal((Errno.EINVAL, Region2), (e.Errno, e.Operation));
        }
    }

    [Theory]
    [MemberData(nameof(RefusedRanges))]
    public void Guest_memfd_offsets_whose_loff_t_sum_does_not_wrap_past_the_file_are_EINVAL(ulong offset, ulong size)
    {
        using var hv = CreateHypervisor();
        HostRequirements.Require(hv, HostNeed.GuestMemfd);
        using var vm = hv.CreateVm(VmType.Default);
        using var gmem = vm.CreateGuestMemfd(M2, GuestMemfdFlags.None);

        var e = Assert.Throws<HypervisorException>(() => vm.SetUserMemoryRegion(new MemoryRegion(1, Gmf, 0, size, SharedBacking.Anonymous, gmem, offset)));

        Assert.Equal((Errno.EINVAL, Region2), (e.Errno, e.Operation));
    }

    // do_mmap refuses a length that fits no gap (get_unmapped_area: ENOMEM) before the vma reaches the file's
    // ->mmap, kvm_gmem_mmap, which is where a file without GUEST_MEMFD_FLAG_MMAP says ENODEV. 2^47 bytes is more
    // than x86-64's 4-level user address space.
    [Theory]
    [MemberData(nameof(MappingFlags))]
    public void Mapping_a_guest_memfd_checks_the_length_before_the_MMAP_flag_ENOMEM(GuestMemfdFlags flags)
    {
        using var hv = CreateHypervisor();
        HostRequirements.Require(hv, Needs(flags));
        using var vm = hv.CreateVm(VmType.Default);
        using var gmem = vm.CreateGuestMemfd(M2, flags);

        var e = Assert.Throws<HypervisorException>(() => vm.SetUserMemoryRegion(new MemoryRegion(1, Gmf, 0, 1UL << 47, SharedBacking.GuestMemfdMapping, gmem, 0)));

        Assert.Equal((Errno.ENOMEM, "mmap"), (e.Errno, e.Operation));
    }

    // mmap refuses an unaligned offset before it looks at the fd, so before ENODEV too.
    [Theory]
    [MemberData(nameof(MappingFlags))]
    public void Mapping_a_guest_memfd_checks_the_offset_alignment_before_the_MMAP_flag_EINVAL(GuestMemfdFlags flags)
    {
        using var hv = CreateHypervisor();
        HostRequirements.Require(hv, Needs(flags));
        using var vm = hv.CreateVm(VmType.Default);
        using var gmem = vm.CreateGuestMemfd(M2, flags);

        var e = Assert.Throws<HypervisorException>(() => vm.SetUserMemoryRegion(new MemoryRegion(1, Gmf, 0, M2, SharedBacking.GuestMemfdMapping, gmem, 0x800)));

        Assert.Equal((Errno.EINVAL, "mmap"), (e.Errno, e.Operation));
    }

    // file_mmap_ok: a guest_memfd's inode is S_IFREG, so a mapping must end within MAX_LFS_FILESIZE (2^63 - 1).
    // do_mmap checks it after get_unmapped_area and before the file's ->mmap: EOVERFLOW with or without
    // GUEST_MEMFD_FLAG_MMAP. So the offsets that bind over anonymous memory on 6.18 (above) cannot be mapped.
    [Theory]
    [MemberData(nameof(OverflowingMappings))]
    public void Mapping_a_guest_memfd_past_MAX_LFS_FILESIZE_is_EOVERFLOW_before_the_MMAP_flag(GuestMemfdFlags flags, ulong offset, ulong size)
    {
        using var hv = CreateHypervisor();
        HostRequirements.Require(hv, Needs(flags));
        using var vm = hv.CreateVm(VmType.Default);
        using var gmem = vm.CreateGuestMemfd(M2, flags);

        var e = Assert.Throws<HypervisorException>(() => vm.SetUserMemoryRegion(new MemoryRegion(1, Gmf, 0, size, SharedBacking.GuestMemfdMapping, gmem, offset)));

        Assert.Equal((Errno.EOVERFLOW, "mmap"), (e.Errno, e.Operation));
    }

    // One page short of 2^63 still maps; then it is the bind's offset check that refuses a range past the file.
    [Fact]
    public void Mapping_a_guest_memfd_that_ends_just_below_2_63_maps_and_the_bind_refuses_it_EINVAL()
    {
        using var hv = CreateHypervisor();
        HostRequirements.Require(hv, HostNeed.GuestMemfdMmapShared);
        using var vm = hv.CreateVm(VmType.Default);
        using var gmem = vm.CreateGuestMemfd(M2, GuestMemfdFlags.Mmap | GuestMemfdFlags.InitShared);

        var e = Assert.Throws<HypervisorException>(() => vm.SetUserMemoryRegion(new MemoryRegion(1, Gmf, 0, K4, SharedBacking.GuestMemfdMapping, gmem, TopOffset - K4)));

        Assert.Equal((Errno.EINVAL, Region2), (e.Errno, e.Operation));
    }

    [Fact]
    public void Without_MMAP_a_mapping_that_fits_is_ENODEV()
    {
        using var hv = CreateHypervisor();
        HostRequirements.Require(hv, HostNeed.GuestMemfd);
        using var vm = hv.CreateVm(VmType.Default);
        using var gmem = vm.CreateGuestMemfd(M2, GuestMemfdFlags.None);

        var e = Assert.Throws<HypervisorException>(() => vm.SetUserMemoryRegion(new MemoryRegion(1, Gmf, 0, M2, SharedBacking.GuestMemfdMapping, gmem, 0)));

        Assert.Equal((Errno.ENODEV, "mmap"), (e.Errno, e.Operation));
    }

    private static HostNeed Needs(GuestMemfdFlags flags) =>
        flags.HasFlag(GuestMemfdFlags.InitShared) ? HostNeed.GuestMemfdMmapShared : HostNeed.GuestMemfd;
}
