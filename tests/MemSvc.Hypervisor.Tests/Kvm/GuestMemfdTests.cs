using MemSvc.Hypervisor.Tests.Capabilities;

namespace MemSvc.Hypervisor.Tests.Kvm;

/// <summary>guest_memfd files of the kvm backend: host mapping, fallocate, identity, lifetime.</summary>
public class GuestMemfdTests
{
    private const ulong M = KvmRig.M;
    private const GuestMemfdFlags MmapShared = GuestMemfdFlags.Mmap | GuestMemfdFlags.InitShared;

    [Fact]
    public void Mapped_writes_read_back_and_a_punched_page_reads_zero()
    {
        using var rig = new KvmRig(HostNeed.GuestMemfdMmapShared);
        using var memfd = rig.Vm.CreateGuestMemfd(4 * 4096, MmapShared);
        memfd.WriteMapped(0, Enumerable.Repeat((byte)0x77, 4 * 4096).ToArray());
        memfd.Fallocate(FallocateMode.PunchHole | FallocateMode.KeepSize, 0, 4096);
        var all = new byte[4 * 4096];
        memfd.ReadMapped(0, all);
        Assert.Equal([.. new byte[4096], .. Enumerable.Repeat((byte)0x77, 3 * 4096)], all);
    }

    [Fact]
    public void Accesses_that_would_SIGBUS_or_cannot_map_are_refused()
    {
        using var rig = new KvmRig(HostNeed.GuestMemfdMmapShared);
        using var plain = rig.Vm.CreateGuestMemfd(2 * M, GuestMemfdFlags.None);
        using var privateOnly = rig.Vm.CreateGuestMemfd(2 * M, GuestMemfdFlags.Mmap);
        using var shared = rig.Vm.CreateGuestMemfd(2 * M, MmapShared);
        var one = new byte[1];
        Assert.Equal(Errno.ENODEV, KvmRig.Fails(() => plain.ReadMapped(0, one)).Errno);
        Assert.Equal(Errno.EFAULT, KvmRig.Fails(() => privateOnly.ReadMapped(0, one)).Errno);
        Assert.Equal(Errno.EFAULT, KvmRig.Fails(() => privateOnly.WriteMapped(0, one)).Errno);
        Assert.Equal(Errno.EFAULT, KvmRig.Fails(() => shared.ReadMapped(2 * M, one)).Errno);
        Assert.Equal(Errno.EFAULT, KvmRig.Fails(() => shared.WriteMapped((2 * M) - 1, new byte[2])).Errno);
    }

    [Fact]
    public void A_closed_file_is_EBADF_and_reports_closed()
    {
        using var rig = new KvmRig(HostNeed.GuestMemfdMmapShared);
        var memfd = rig.Vm.CreateGuestMemfd(2 * M, MmapShared);
        memfd.Dispose();
        Assert.True(memfd.IsClosed);
        Assert.Equal(Errno.EBADF, KvmRig.Fails(() => memfd.Fallocate(FallocateMode.KeepSize, 0, 4096)).Errno);
        Assert.Equal(Errno.EBADF, KvmRig.Fails(() => memfd.ReadMapped(0, new byte[1])).Errno);
    }

    [Fact]
    public void Files_have_their_size_flags_and_distinct_inodes()
    {
        using var rig = new KvmRig(HostNeed.GuestMemfdMmapShared);
        using var a = rig.Vm.CreateGuestMemfd(4096, GuestMemfdFlags.None);
        using var b = rig.Vm.CreateGuestMemfd(8192, MmapShared);
        Assert.Equal((4096UL, GuestMemfdFlags.None), (a.Size, a.Flags));
        Assert.Equal((8192UL, MmapShared), (b.Size, b.Flags));
        Assert.NotEqual(a.Inode, b.Inode);
    }

    [Fact]
    public void Fallocate_still_works_after_the_vm_is_gone()
    {
        var rig = new KvmRig(HostNeed.GuestMemfd);
        var memfd = rig.Vm.CreateGuestMemfd(2 * M, GuestMemfdFlags.None);
        rig.Dispose();
        using (memfd)
        {
            memfd.Fallocate(FallocateMode.PunchHole | FallocateMode.KeepSize, 0, (long)(2 * M));
            memfd.Fallocate(FallocateMode.KeepSize, 0, (long)(2 * M));
        }
    }
}
