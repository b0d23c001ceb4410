using System.Runtime.InteropServices;
using MemSvc.Hypervisor.Kvm;

namespace MemSvc.Hypervisor.Tests.Kvm;

/// <summary>The host-memory pieces of the kvm backend that need no /dev/kvm: shared sides and fstat.</summary>
public class HostMemoryTests
{
    [Fact]
    public void Discarding_part_of_an_anonymous_shared_side_zeroes_exactly_that_part()
    {
        using var side = SharedSide.Anonymous(4 * 4096);
        Assert.True(side.IsHostAccessible);
        Fill(side, 4 * 4096, 0x5a);
        side.Discard(4096, 2 * 4096);
        var bytes = Read(side, 4 * 4096);
        Assert.Equal([.. Enumerable.Repeat((byte)0x5a, 4096), .. new byte[2 * 4096], .. Enumerable.Repeat((byte)0x5a, 4096)], bytes);
    }

    [Fact]
    public void An_unmapped_or_raw_shared_side_is_not_host_accessible()
    {
        using var side = SharedSide.Anonymous(4096);
        side.Unmap();
        Assert.False(side.IsHostAccessible);
        using var raw = SharedSide.Raw(SharedBacking.At(0x1000), 0x1000);
        Assert.False(raw.IsHostAccessible);
        Assert.Equal(0x1000UL, raw.UserspaceAddress);
    }

    [Fact]
    public void Fstat_gives_a_files_inode_and_size()
    {
        var memfd = FileDescriptor.FromResult(LibC.MemfdCreate("fstat-test", LibC.MFD_CLOEXEC), "memfd_create");
        using var file = new GuestMemfdFd(memfd);
        Assert.Equal(0, LibC.Ftruncate(memfd, 12288));
        var (inode, size) = file.Stat();
        Assert.NotEqual(0UL, inode);
        Assert.Equal(12288, size);
    }

    [Fact]
    public void The_kernel_release_is_unames()
    {
        Assert.Equal(File.ReadAllText("/proc/sys/kernel/osrelease").Trim(), KvmCapabilityProbe.KernelRelease());
    }

    [Fact]
    public void Vm_types_come_from_the_capability_bitmask()
    {
        Assert.Equal([VmType.Default], KvmCapabilityProbe.VmTypesFromMask(0));
        Assert.Equal([VmType.Default], KvmCapabilityProbe.VmTypesFromMask(1));
        Assert.Equal([VmType.Default, VmType.SwProtected, VmType.Snp, VmType.Tdx], KvmCapabilityProbe.VmTypesFromMask(0b110011));
    }

    private static void Fill(SharedSide side, int length, byte value) =>
        Marshal.Copy(Enumerable.Repeat(value, length).ToArray(), 0, side.HostAddress(0), length);

    private static byte[] Read(SharedSide side, int length)
    {
        var bytes = new byte[length];
        Marshal.Copy(side.HostAddress(0), bytes, 0, length);
        return bytes;
    }
}
