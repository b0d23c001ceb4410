using MemSvc.Hypervisor.Tests.Capabilities;

namespace MemSvc.Hypervisor.Tests.Kvm;

/// <summary>The host's access to guest memory through the memslots' shared sides.</summary>
public class SharedMemoryTests
{
    private const ulong M = KvmRig.M;
    private const GuestMemfdFlags MmapShared = GuestMemfdFlags.Mmap | GuestMemfdFlags.InitShared;

    [Fact]
    public void Reads_and_writes_span_adjacent_slots_of_either_kind()
    {
        using var rig = new KvmRig(HostNeed.GuestMemfdMmapShared);
        using var memfd = rig.Vm.CreateGuestMemfd(2 * M, MmapShared);
        rig.Vm.SetUserMemoryRegion(new MemoryRegion(0, MemoryRegionFlags.None, 0, 2 * M, SharedBacking.Anonymous));
        rig.Vm.SetUserMemoryRegion(new MemoryRegion(1, MemoryRegionFlags.GuestMemfd, 2 * M, 2 * M, SharedBacking.GuestMemfdMapping, memfd, 0));
        var data = Enumerable.Range(0, 8192).Select(i => (byte)i).ToArray();
        rig.Vm.WriteSharedMemory((2 * M) - 4096, data);
        var back = new byte[8192];
        rig.Vm.ReadSharedMemory((2 * M) - 4096, back);
        Assert.Equal(data, back);
        var inFile = new byte[4096];
        memfd.ReadMapped(0, inFile);
        Assert.Equal(data[4096..], inFile);
    }

    [Fact]
    public void Discarded_shared_memory_reads_back_as_zero()
    {
        using var rig = new KvmRig(HostNeed.GuestMemfdMmapShared);
        using var memfd = rig.Vm.CreateGuestMemfd(2 * M, MmapShared);
        rig.Vm.SetUserMemoryRegion(new MemoryRegion(0, MemoryRegionFlags.None, 0, 2 * M, SharedBacking.Anonymous));
        rig.Vm.SetUserMemoryRegion(new MemoryRegion(1, MemoryRegionFlags.GuestMemfd, 2 * M, 2 * M, SharedBacking.GuestMemfdMapping, memfd, 0));
        rig.Vm.WriteSharedMemory(0, Enumerable.Repeat((byte)1, (int)(4 * M)).ToArray());
        rig.Vm.DiscardSharedMemory((2 * M) - 4096, 8192);
        var bytes = new byte[3 * 4096];
        rig.Vm.ReadSharedMemory((2 * M) - 8192, bytes);
        Assert.Equal([.. Enumerable.Repeat((byte)1, 4096), .. new byte[8192]], bytes);
        var inFile = new byte[4096];
        memfd.ReadMapped(0, inFile);
        Assert.Equal(new byte[4096], inFile);
        Assert.Equal(Errno.EINVAL, KvmRig.Fails(() => rig.Vm.DiscardSharedMemory(100, 4096)).Errno);
    }

    [Fact]
    public void Memory_without_a_host_visible_shared_side_is_EFAULT()
    {
        using var rig = new KvmRig(HostNeed.GuestMemfdMmap);
        using var privateOnly = rig.Vm.CreateGuestMemfd(2 * M, GuestMemfdFlags.Mmap);
        using var plain = rig.Vm.CreateGuestMemfd(2 * M, GuestMemfdFlags.None);
        rig.Vm.SetUserMemoryRegion(new MemoryRegion(0, MemoryRegionFlags.GuestMemfd, 0, 2 * M, SharedBacking.None, plain, 0));
        rig.Vm.SetUserMemoryRegion(new MemoryRegion(1, MemoryRegionFlags.GuestMemfd, 2 * M, 2 * M, SharedBacking.GuestMemfdMapping, privateOnly, 0));
        rig.Vm.SetUserMemoryRegion(new MemoryRegion(2, MemoryRegionFlags.None, 4 * M, 2 * M, SharedBacking.Anonymous));
        rig.Vm.UnmapSharedBacking(2);
        var one = new byte[1];
        foreach (var gpa in new[] { 0UL, 2 * M, 4 * M, 6 * M })
        {
            Assert.Equal(Errno.EFAULT, KvmRig.Fails(() => rig.Vm.ReadSharedMemory(gpa, one)).Errno);
            Assert.Equal(Errno.EFAULT, KvmRig.Fails(() => rig.Vm.WriteSharedMemory(gpa, one)).Errno);
        }

        Assert.Equal(Errno.EINVAL, KvmRig.Fails(() => rig.Vm.UnmapSharedBacking(9)).Errno);
    }

    [Fact]
    public void A_flags_only_change_keeps_the_anonymous_shared_side_and_its_data()
    {
        using var rig = new KvmRig();
        var region = new MemoryRegion(0, MemoryRegionFlags.None, 0, 2 * M, SharedBacking.Anonymous);
        rig.Vm.SetUserMemoryRegion(region);
        rig.Vm.WriteSharedMemory(0x1000, [1, 2, 3]);
        rig.Vm.SetUserMemoryRegion(region with { Flags = MemoryRegionFlags.LogDirtyPages });
        var back = new byte[3];
        rig.Vm.ReadSharedMemory(0x1000, back);
        Assert.Equal([1, 2, 3], back);
    }

    [Fact]
    public void A_foreign_guest_memfd_is_EINVAL_a_closed_one_EBADF_and_none_EBADF()
    {
        using var rig = new KvmRig(HostNeed.GuestMemfd);
        var closed = rig.Vm.CreateGuestMemfd(2 * M, GuestMemfdFlags.None);
        closed.Dispose();
        MemoryRegion Slot(IGuestMemfd? memfd) => new(1, MemoryRegionFlags.GuestMemfd, 0, 2 * M, SharedBacking.Anonymous, memfd, 0);
        Assert.Equal(Errno.EINVAL, KvmRig.Fails(() => rig.Vm.SetUserMemoryRegion(Slot(new ForeignGuestMemfd()))).Errno);
        Assert.Equal(Errno.EBADF, KvmRig.Fails(() => rig.Vm.SetUserMemoryRegion(Slot(closed))).Errno);
        Assert.Equal(Errno.EBADF, KvmRig.Fails(() => rig.Vm.SetUserMemoryRegion(Slot(null))).Errno);
    }

    [Fact]
    public void Mapping_a_guest_memfd_without_MMAP_as_the_shared_side_is_ENODEV()
    {
        using var rig = new KvmRig(HostNeed.GuestMemfd);
        using var memfd = rig.Vm.CreateGuestMemfd(2 * M, GuestMemfdFlags.None);
        var region = new MemoryRegion(1, MemoryRegionFlags.GuestMemfd, 0, 2 * M, SharedBacking.GuestMemfdMapping, memfd, 0);
        Assert.Equal(Errno.ENODEV, KvmRig.Fails(() => rig.Vm.SetUserMemoryRegion(region)).Errno);
    }

    private sealed class ForeignGuestMemfd : IGuestMemfd
    {
        public ulong Size => 4 * M;

        public GuestMemfdFlags Flags => GuestMemfdFlags.None;

        public ulong Inode => 1;

        public bool IsClosed => false;

        public void Fallocate(FallocateMode mode, long offset, long length)
        {
        }

        public void ReadMapped(ulong offset, Span<byte> destination)
        {
        }

        public void WriteMapped(ulong offset, ReadOnlySpan<byte> source)
        {
        }

        public void Dispose()
        {
        }
    }
}
