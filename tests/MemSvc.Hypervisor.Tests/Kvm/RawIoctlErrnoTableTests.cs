using MemSvc.Hypervisor.Tests.Capabilities;

namespace MemSvc.Hypervisor.Tests.Kvm;

/// <summary>
/// The kvm-only rows of results.txt's errno table (<see cref="RawIoctlErrnoRows"/>), asked of the real kernel
/// through the raw ioctl layer: same input, same errno. Skipped with the reason where /dev/kvm does not open or the
/// host has no guest_memfd (every row is relative to a guest_memfd bound as slot 0).
/// </summary>
public class RawIoctlErrnoTableTests
{
    public static TheoryData<string> GmemRows => RawIoctlErrnoRows.Names(RawIoctlErrnoRows.Gmem);

    public static TheoryData<string> Region2Rows => RawIoctlErrnoRows.Names(RawIoctlErrnoRows.Region2);

    public static TheoryData<string> OrderRows => RawIoctlErrnoRows.Names(RawIoctlErrnoRows.Order);

    public static TheoryData<string> RegionV1Rows => RawIoctlErrnoRows.Names(RawIoctlErrnoRows.RegionV1);

    [Theory]
    [MemberData(nameof(GmemRows))]
    public void Gmem(string row) => Check(RawIoctlErrnoRows.Gmem[row]);

    [Theory]
    [MemberData(nameof(Region2Rows))]
    public void Region2(string row) => Check(RawIoctlErrnoRows.Region2[row]);

    [Theory]
    [MemberData(nameof(OrderRows))]
    public void Order(string row) => Check(RawIoctlErrnoRows.Order[row]);

    [Theory]
    [MemberData(nameof(RegionV1Rows))]
    public void RegionV1(string row) => Check(RawIoctlErrnoRows.RegionV1[row]);

    private static void Check(RawIoctlErrnoRow row)
    {
        using var fixture = new RawIoctlErrnoFixture(KvmTestHost.Open(HostNeed.GuestMemfd));
        if (row.Expected is { } errno)
        {
            var e = Assert.Throws<HypervisorException>(() => row.Act(fixture));
            Assert.Equal(errno, e.Errno);
        }
        else
        {
            row.Act(fixture);
        }
    }
}
