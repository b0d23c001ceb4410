using static MemSvc.Hypervisor.Tests.Kvm.RawIoctlErrnoFixture;

namespace MemSvc.Hypervisor.Tests.Kvm;

/// <summary>
/// One row of results.txt's errno table that only the raw ioctl layer can express: what to do on a fresh
/// <see cref="RawIoctlErrnoFixture"/> and the errno the real kernel gave (null: success).
/// </summary>
internal sealed record RawIoctlErrnoRow(Action<RawIoctlErrnoFixture> Act, Errno? Expected);

/// <summary>
/// The rows of results.txt's errno table that are kvm-only by nature, keyed by their results.txt name, with the
/// same inputs as errno_table.c: reserved[] and pad fields the abstraction always zeroes, ioctls on the wrong fd,
/// fds that are not guest_memfds (memfd, /dev/null, eventfd, the VM fd), the literal closed fd number 1000, and the
/// v1 KVM_SET_USER_MEMORY_REGION. Every row the abstraction can express is in Conformance/ErrnoTableRows.cs, run on
/// both backends; some rows here also have an abstraction analogue there under the same name.
/// </summary>
internal static class RawIoctlErrnoRows
{
    private const MemoryRegionFlags Ro = MemoryRegionFlags.ReadOnly;

    public static IReadOnlyDictionary<string, RawIoctlErrnoRow> Gmem { get; } = new Dictionary<string, RawIoctlErrnoRow>
    {
        ["reserved[0]=1"] = new(f => GmRaw(f.Vm.Fd.Handle, 2 * M, 0, 0, 1), null),
        ["reserved[5]=1"] = new(f => GmRaw(f.Vm.Fd.Handle, 2 * M, 0, 5, 1), null),
        ["ioctl on /dev/kvm fd"] = new(f => GmRaw(f.Hypervisor.System.Handle, 2 * M, 0), Errno.EINVAL),
        ["ioctl on vCPU fd"] = new(f => GmRaw(f.Keep(f.Vm.Fd.CreateVcpu(0)).Handle, 2 * M, 0), Errno.EINVAL),
    };

    public static IReadOnlyDictionary<string, RawIoctlErrnoRow> Region2 { get; } = new Dictionary<string, RawIoctlErrnoRow>
    {
        ["non-gmem fd: memfd"] = new(f => f.Raw2(1, Gmf, 8 * M, 2 * M, f.Ua, f.Memfd(), 0), Errno.EINVAL),
        ["non-gmem fd: /dev/null"] = new(f => f.Raw2(1, Gmf, 8 * M, 2 * M, f.Ua, f.DevNull(), 0), Errno.EINVAL),
        ["non-gmem fd: eventfd"] = new(f => f.Raw2(1, Gmf, 8 * M, 2 * M, f.Ua, f.Eventfd(), 0), Errno.EINVAL),
        ["non-gmem fd: the VM fd itself"] = new(f => f.Raw2(1, Gmf, 8 * M, 2 * M, f.Ua, f.Vm.Fd.Handle.Number, 0), Errno.EINVAL),
        ["guest_memfd = closed fd number (1000)"] = new(f => f.Raw2(1, Gmf, 8 * M, 2 * M, f.Ua, ClosedFd(), 0), Errno.EBADF),
        ["pad1 = 1"] = new(f => f.Raw2(1, Gmf, 8 * M, 2 * M, f.Ua, f.G.Handle.Number, 2 * M, pad1: 1), null),
        ["pad2[0] = 1"] = new(f => f.Raw2(1, Gmf, 8 * M, 2 * M, f.Ua, f.G.Handle.Number, 2 * M, pad2First: 1), null),
        ["delete slot0 (size=0, flags=GUEST_MEMFD, fd=1000)"] = new(f => f.Raw2(0, Gmf, 0, 0, 0, ClosedFd(), 0), null),
    };

    public static IReadOnlyDictionary<string, RawIoctlErrnoRow> Order { get; } = new Dictionary<string, RawIoctlErrnoRow>
    {
        ["bad fd(1000) + unaligned gpa"] = new(f => f.Raw2(1, Gmf, (8 * M) + 1, 2 * M, f.Ua, ClosedFd(), 0), Errno.EINVAL),
        ["bad fd(1000) + gpa overlapping slot0"] = new(f => f.Raw2(1, Gmf, 0, 2 * M, f.Ua, ClosedFd(), 2 * M), Errno.EEXIST),
        ["non-gmem fd(memfd) + gpa overlapping slot0"] = new(f => f.Raw2(1, Gmf, 0, 2 * M, f.Ua, f.Memfd(), 2 * M), Errno.EEXIST),
        ["READONLY + bad fd(1000)"] = new(f => f.Raw2(1, Gmf | Ro, 8 * M, 2 * M, f.Ua, ClosedFd(), 0), Errno.EINVAL),
        ["slot id 32764 + bad fd(1000)"] = new(f => f.Raw2(32764, Gmf, 8 * M, 2 * M, f.Ua, ClosedFd(), 0), Errno.EINVAL),
        ["unaligned userspace_addr + bad fd(1000)"] = new(f => f.Raw2(1, Gmf, 8 * M, 2 * M, f.Ua + 1, ClosedFd(), 0), Errno.EINVAL),
        ["modify slot0 (gmem) with bad fd(1000)"] = new(f => f.Raw2(0, Gmf, 0, 2 * M, f.Ua, ClosedFd(), 0), Errno.EINVAL),
    };

    public static IReadOnlyDictionary<string, RawIoctlErrnoRow> RegionV1 { get; } = new Dictionary<string, RawIoctlErrnoRow>
    {
        ["KVM_SET_USER_MEMORY_REGION with GUEST_MEMFD flag"] = new(f => f.Raw1(1, Gmf, 8 * M, 2 * M, f.Ua), Errno.EINVAL),
        ["v1 delete of gmem slot0"] = new(f => f.Raw1(0, 0, 0, 0, 0), null),
        ["v1 modify of gmem slot0 (same gpa/size/ua)"] = new(f => f.Raw1(0, 0, 0, 2 * M, f.Ua), Errno.EINVAL),
    };

    /// <summary>The tables by results.txt area ("gmem", "region2", "order", "region(v1)").</summary>
    public static IReadOnlyDictionary<string, IReadOnlyDictionary<string, RawIoctlErrnoRow>> ByArea { get; } =
        new Dictionary<string, IReadOnlyDictionary<string, RawIoctlErrnoRow>>
        {
            ["gmem"] = Gmem,
            ["region2"] = Region2,
            ["order"] = Order,
            ["region(v1)"] = RegionV1,
        };

    public static TheoryData<string> Names(IReadOnlyDictionary<string, RawIoctlErrnoRow> rows) => [.. rows.Keys];
}
