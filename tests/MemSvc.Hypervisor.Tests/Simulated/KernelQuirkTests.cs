using MemSvc.Hypervisor.Simulated;
using static MemSvc.Hypervisor.Tests.Simulated.Sim;

namespace MemSvc.Hypervisor.Tests.Simulated;

/// <summary>
/// Answers of v6.18 that follow from how the kernel computes rather than from a rule anyone wrote down: the model
/// must give them too, or a test that passes on the simulator fails on the host. mmap's order is the same on every
/// host profile with guest_memfd; kvm_gmem_bind's loff_t wrap is 6.18's only: Debian's 7.2.13 refuses the range
/// with EINVAL (both measured in tests/kvm-host's nested guests; Conformance/KernelQuirkConformance runs these
/// rows on a real kernel too).
/// </summary>
public class KernelQuirkTests
{
    private const MemoryRegionFlags Gmf = MemoryRegionFlags.GuestMemfd;

    /// <summary>The highest page-aligned loff_t: offset + size crosses 2^63 for any size.</summary>
    private const ulong TopOffset = 0x7fff_ffff_ffff_f000;

    private static readonly string[] GuestMemfdProfiles = ["default", "kvm-6.18-pvm", "kvm-7.2-debian"];

    // The profiles whose kernel's loff_t sum wraps (6.18 semantics), and those whose kernel refuses the range.
    private static readonly string[] WrappingProfiles = ["default", "kvm-6.18-pvm"];
    private static readonly string[] CheckedProfiles = ["kvm-7.2-debian"];

    public static TheoryData<string> Profiles => [.. GuestMemfdProfiles];

    public static TheoryData<string, ulong> ProfilesAndSizes =>
        [.. WrappingProfiles.SelectMany(p => new[] { K4, 2 * K4, M2 }.Select(size => (p, size)))];

    public static TheoryData<string, ulong> CheckedProfilesAndSizes =>
        [.. CheckedProfiles.SelectMany(p => new[] { K4, 2 * K4, M2 }.Select(size => (p, size)))];

    public static TheoryData<string, ulong, ulong> ProfilesAndRefusedRanges =>
        [.. GuestMemfdProfiles.SelectMany(p => new[]
        {
            (p, TopOffset - K4, K4),                 // ends at 2^63 - 4 KiB: no wrap, past the 2 MiB file
            (p, 0x8000_0000_0000_0000UL, K4),       // a negative loff_t
            (p, 0xffff_ffff_ffff_f000UL, 2 * K4),   // offset + size wraps u64
        })];

    // kvm_gmem_bind checks `offset + size > i_size_read(inode)` in loff_t, and the kernel is built with
    // -fno-strict-overflow: a sum past 2^63 wraps negative and passes, whatever the file's size. The u64 check
    // of __kvm_set_memory_region (offset + size < offset) does not fire either, as the sum is below 2^64.
    [Theory]
    [MemberData(nameof(ProfilesAndSizes))]
    public void A_guest_memfd_offset_whose_end_crosses_2_63_binds_because_the_kernels_loff_t_sum_wraps(string profile, ulong size)
    {
        using var vm = NewHypervisor(profile).CreateSimulatedVm(VmType.Default);
        using var gmem = vm.CreateGuestMemfd(M2, GuestMemfdFlags.None);

        vm.SetUserMemoryRegion(new MemoryRegion(1, Gmf, 0, size, SharedBacking.Anonymous, gmem, TopOffset));

        Assert.Equal(1, vm.MemslotCount);
    }

    [Theory]
    [MemberData(nameof(CheckedProfilesAndSizes))]
    public void A_guest_memfd_offset_whose_end_crosses_2_63_is_EINVAL_where_the_kernel_does_not_wrap(string profile, ulong size)
    {
        using var vm = NewHypervisor(profile).CreateSimulatedVm(VmType.Default);
        using var gmem = vm.CreateGuestMemfd(M2, GuestMemfdFlags.None);

        var e = Throws(() => vm.SetUserMemoryRegion(new MemoryRegion(1, Gmf, 0, size, SharedBacking.Anonymous, gmem, TopOffset)));

        Assert.Equal((Errno.EINVAL, "KVM_SET_USER_MEMORY_REGION2"), (e.Errno, e.Operation));
        Assert.Equal(0, vm.MemslotCount);
    }

    [Theory]
    [MemberData(nameof(ProfilesAndRefusedRanges))]
    public void Offsets_whose_loff_t_sum_does_not_wrap_past_the_file_stay_EINVAL(string profile, ulong offset, ulong size)
    {
        using var vm = NewHypervisor(profile).CreateSimulatedVm(VmType.Default);
        using var gmem = vm.CreateGuestMemfd(M2, GuestMemfdFlags.None);

        var e = Throws(() => vm.SetUserMemoryRegion(new MemoryRegion(1, Gmf, 0, size, SharedBacking.Anonymous, gmem, offset)));

        Assert.Equal((Errno.EINVAL, "KVM_SET_USER_MEMORY_REGION2"), (e.Errno, e.Operation));
        Assert.Equal(0, vm.MemslotCount);
    }

    // do_mmap refuses a length that fits no gap (get_unmapped_area: ENOMEM) before the vma reaches the file's
    // ->mmap, kvm_gmem_mmap, which is where a file without GUEST_MEMFD_FLAG_MMAP says ENODEV. 2^47 bytes is more
    // than x86-64's 4-level user address space.
    [Theory]
    [MemberData(nameof(Profiles))]
    public void Mapping_a_guest_memfd_checks_the_length_before_the_MMAP_flag(string profile)
    {
        var hv = NewHypervisor(profile);
        using var vm = hv.CreateSimulatedVm(VmType.Default);
        using var plain = vm.CreateGuestMemfd(M2, GuestMemfdFlags.None);

        var e = Throws(() => vm.SetUserMemoryRegion(new MemoryRegion(1, Gmf, 0, 1UL << 47, SharedBacking.GuestMemfdMapping, plain, 0)));

        Assert.Equal((Errno.ENOMEM, "mmap"), (e.Errno, e.Operation));
        Assert.Equal(0, hv.UserMappingCount);
    }

    // sys_mmap refuses an unaligned offset before it looks at the fd, so before ENODEV too.
    [Theory]
    [MemberData(nameof(Profiles))]
    public void Mapping_a_guest_memfd_checks_the_offset_alignment_before_the_MMAP_flag(string profile)
    {
        using var vm = NewHypervisor(profile).CreateSimulatedVm(VmType.Default);
        using var plain = vm.CreateGuestMemfd(M2, GuestMemfdFlags.None);

        var e = Throws(() => vm.SetUserMemoryRegion(new MemoryRegion(1, Gmf, 0, M2, SharedBacking.GuestMemfdMapping, plain, 0x800)));

        Assert.Equal((Errno.EINVAL, "mmap"), (e.Errno, e.Operation));
    }

    // A zero length is do_mmap's first check. A memslot request of size 0 is a delete and maps nothing, so the
    // rule is reached here through the model's mmap itself.
    [Theory]
    [InlineData(GuestMemfdFlags.None)]
    [InlineData(GuestMemfdFlags.Mmap | GuestMemfdFlags.InitShared)]
    public void Mapping_zero_bytes_of_a_guest_memfd_is_EINVAL_with_or_without_MMAP(GuestMemfdFlags flags)
    {
        var hv = NewHypervisor();
        using var vm = hv.CreateSimulatedVm(VmType.Default);
        using var gmem = vm.CreateSimulatedGuestMemfd(M2, flags);

        var e = Throws(() => GuestMemfdMmap.Map(hv.AddressSpace, gmem, 0, 0));

        Assert.Equal((Errno.EINVAL, "mmap", "length"), (e.Errno, e.Operation, e.Argument));
        Assert.Equal(0, hv.UserMappingCount);
    }

    // file_mmap_ok's EOVERFLOW (a mapping ending past MAX_LFS_FILESIZE) comes after get_unmapped_area and before
    // the file's ->mmap, as on Debian's 6.18.15 (KernelQuirkConformance runs the same rows on a real kernel): the
    // vma is freed again, so nothing stays mapped, and the MMAP flag is never looked at.
    [Theory]
    [MemberData(nameof(Profiles))]
    public void A_mapping_past_MAX_LFS_FILESIZE_is_EOVERFLOW_and_leaves_nothing_mapped(string profile)
    {
        var hv = NewHypervisor(profile);
        using var vm = hv.CreateSimulatedVm(VmType.Default);
        using var shared = vm.CreateSimulatedGuestMemfd(M2, GuestMemfdFlags.Mmap | GuestMemfdFlags.InitShared);
        using var plain = vm.CreateSimulatedGuestMemfd(M2, GuestMemfdFlags.None);

        foreach (var file in new[] { shared, plain })
        {
            var e = Throws(() => vm.SetUserMemoryRegion(new MemoryRegion(1, Gmf, 0, 2 * K4, SharedBacking.GuestMemfdMapping, file, TopOffset)));

            Assert.Equal((Errno.EOVERFLOW, "mmap"), (e.Errno, e.Operation));
        }

        Assert.Equal(0, hv.UserMappingCount);
        Assert.Equal(0, vm.MemslotCount);
    }

    [Fact]
    public void Without_MMAP_a_mapping_that_fits_is_ENODEV_and_leaves_nothing_mapped()
    {
        var hv = NewHypervisor();
        using var vm = hv.CreateSimulatedVm(VmType.Default);
        using var plain = vm.CreateSimulatedGuestMemfd(M2, GuestMemfdFlags.None);

        var e = Throws(() => GuestMemfdMmap.Map(hv.AddressSpace, plain, 0, M2));

        Assert.Equal((Errno.ENODEV, "mmap"), (e.Errno, e.Operation));
        Assert.Equal(0, hv.UserMappingCount);
    }
}
