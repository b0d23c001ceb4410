using MemSvc.Hypervisor.Tests.Capabilities;

namespace MemSvc.Hypervisor.Tests.Conformance;

/// <summary>
/// results.txt's caps and gmem sections for a default VM (VM types, EXIT_HYPERCALL, guest_memfd flag
/// combinations and host mapping, and the memslot bind/delete/rebind lifecycle), backend-agnostic.
/// </summary>
public abstract class LifecycleConformance
{
    private const ulong M = 1UL << 20;
    private const MemoryRegionFlags Gmf = MemoryRegionFlags.GuestMemfd;

    public static TheoryData<int> VmTypeValues => [0, 1, 2, 3, 4, 5, 6, 8, 0xff, unchecked((int)0x80000000)];

    protected abstract IHypervisor CreateHypervisor();

    [Theory]
    [MemberData(nameof(VmTypeValues))]
    public void KVM_CREATE_VM_accepts_exactly_the_reported_types(int type)
    {
        using var hv = CreateHypervisor();
        var vmType = (VmType)type;
        if (hv.Capabilities.VmTypes.Contains(vmType))
        {
            hv.CreateVm(vmType).Dispose();
        }
        else
        {
            Assert.Equal(Errno.EINVAL, Assert.Throws<HypervisorException>(() => hv.CreateVm(vmType)).Errno);
        }
    }

    [Fact]
    public void ENABLE_CAP_EXIT_HYPERCALL_takes_bit_12_or_0_and_refuses_other_bits()
    {
        using var hv = CreateHypervisor();
        HostRequirements.Require(hv, HostNeed.MapGpaRangeExit);
        using var vm = hv.CreateVm(VmType.Default);
        vm.EnableExitHypercall(0x1000);
        vm.EnableExitHypercall(0);
        Assert.Equal(Errno.EINVAL, Assert.Throws<HypervisorException>(() => vm.EnableExitHypercall(0x2)).Errno);
    }

    [Theory]
    [InlineData(GuestMemfdFlags.None)]
    [InlineData(GuestMemfdFlags.InitShared)]
    public void Gmem_without_MMAP_cannot_be_mapped_ENODEV(GuestMemfdFlags flags)
    {
        using var hv = CreateHypervisor();
        HostRequirements.Require(hv, HostNeed.GuestMemfd);
        using var vm = hv.CreateVm(VmType.Default);
        using var gmem = vm.CreateGuestMemfd(2 * M, flags);
        Assert.Equal(Errno.ENODEV, Assert.Throws<HypervisorException>(() => gmem.ReadMapped(0, new byte[1])).Errno);
        Assert.Equal(Errno.ENODEV, Assert.Throws<HypervisorException>(() => gmem.WriteMapped(0, new byte[1])).Errno);
    }

    [Fact]
    public void Gmem_MMAP_without_INIT_SHARED_faults_on_every_host_touch()
    {
        using var hv = CreateHypervisor();
        HostRequirements.Require(hv, HostNeed.GuestMemfdMmap);
        using var vm = hv.CreateVm(VmType.Default);
        using var gmem = vm.CreateGuestMemfd(2 * M, GuestMemfdFlags.Mmap);
        Assert.Equal(Errno.EFAULT, Assert.Throws<HypervisorException>(() => gmem.ReadMapped(0, new byte[1])).Errno);
        Assert.Equal(Errno.EFAULT, Assert.Throws<HypervisorException>(() => gmem.WriteMapped(0, new byte[1])).Errno);
    }

    [Fact]
    public void Gmem_MMAP_INIT_SHARED_reads_back_writes_and_a_punched_page_reads_zero()
    {
        using var hv = CreateHypervisor();
        HostRequirements.Require(hv, HostNeed.GuestMemfdMmapShared);
        using var vm = hv.CreateVm(VmType.Default);
        using var gmem = vm.CreateGuestMemfd(2 * M, GuestMemfdFlags.Mmap | GuestMemfdFlags.InitShared);
        gmem.WriteMapped(0, [0x5a]);
        gmem.WriteMapped(4096, [0x77]);
        var b = new byte[1];
        gmem.ReadMapped(0, b);
        Assert.Equal(0x5a, b[0]);
        gmem.Fallocate(FallocateMode.PunchHole | FallocateMode.KeepSize, 4096, 4096);
        gmem.ReadMapped(4096, b);
        Assert.Equal(0x00, b[0]);
        gmem.ReadMapped(0, b);
        Assert.Equal(0x5a, b[0]);
    }

    [Fact]
    public void Memslot_lifecycle_of_a_default_VM_matches_the_probe()
    {
        using var hv = CreateHypervisor();
        HostRequirements.Require(hv, HostNeed.GuestMemfd);
        using var vm = hv.CreateVm(VmType.Default);
        var gmem = vm.CreateGuestMemfd(8 * M, GuestMemfdFlags.None);
        void R2(uint slot, MemoryRegionFlags flags, ulong gpa, ulong size, SharedBacking b, IGuestMemfd? g, ulong off) =>
            vm.SetUserMemoryRegion(new MemoryRegion(slot, flags, gpa, size, b, g, off));
        Errno Fails(Action a) => Assert.Throws<HypervisorException>(a).Errno;
        var anon = SharedBacking.Anonymous;

        R2(0, Gmf, 0, 2 * M, anon, gmem, 0);                                                              // bind slot0
        Assert.Equal(Errno.EINVAL, Fails(() => R2(0, Gmf, 0, 2 * M, anon, gmem, 0)));                     // re-issue identical
        Assert.Equal(Errno.EINVAL, Fails(() => R2(0, Gmf | MemoryRegionFlags.LogDirtyPages, 0, 2 * M, anon, gmem, 0)));
        Assert.Equal(Errno.EINVAL, Fails(() => R2(0, Gmf, 0, 2 * M, anon, gmem, 0)));                     // back to GUEST_MEMFD
        Assert.Equal(Errno.EINVAL, Fails(() => R2(0, Gmf, 16 * M, 2 * M, anon, gmem, 0)));                // move
        Assert.Equal(Errno.EINVAL, Fails(() => R2(0, Gmf, 0, 4 * M, anon, gmem, 0)));                     // resize
        Assert.Equal(Errno.EINVAL, Fails(() => R2(0, Gmf, 0, 2 * M, anon, gmem, 2 * M)));                 // other offset
        Assert.Equal(Errno.EINVAL, Fails(() => R2(0, 0, 0, 2 * M, anon, null, 0)));                       // drop GUEST_MEMFD
        R2(1, Gmf, 2 * M, 2 * M, anon, gmem, 2 * M);                                                      // disjoint range
        R2(0, 0, 0, 0, SharedBacking.None, null, 0);                                                      // delete slot0
        Assert.Equal(Errno.EINVAL, Fails(() => R2(0, 0, 0, 0, SharedBacking.None, null, 0)));             // already gone
        R2(0, Gmf, 0, 2 * M, anon, gmem, 0);                                                              // rebind
        R2(0, 0, 0, 0, SharedBacking.None, null, 0);
        R2(0, Gmf, 0, 2 * M, SharedBacking.None, gmem, 0);                                                // userspace_addr 0
        R2(0, 0, 0, 0, SharedBacking.None, null, 0);
        R2(0, Gmf, 0, M, anon, gmem, 6 * M);                                                              // offset 6M, 1M
        R2(0, 0, 0, 0, SharedBacking.None, null, 0);
        gmem.Dispose();
        R2(1, 0, 2 * M, 0, SharedBacking.None, null, 0);                                                  // delete after close

        using var vm2 = hv.CreateVm(VmType.Default);
        var gmem2 = vm2.CreateGuestMemfd(4 * M, GuestMemfdFlags.None);
        Assert.Equal(Errno.EINVAL, Fails(() => R2(5, Gmf, 32 * M, 2 * M, anon, gmem2, 0)));             // vm2's gmem in vm
        vm2.SetUserMemoryRegion(new MemoryRegion(5, Gmf, 32 * M, 2 * M, anon, gmem2, 0));                 // in vm2
        vm2.Dispose();
        gmem2.Fallocate(FallocateMode.KeepSize, 0, (long)(4 * M));                                        // after close(vm2)
        gmem2.Fallocate(FallocateMode.PunchHole | FallocateMode.KeepSize, 0, (long)(4 * M));
        gmem2.Dispose();
    }
}
