using MemSvc.Hypervisor.Tests.Capabilities;

namespace MemSvc.Hypervisor.Tests.Conformance;

/// <summary>
/// results.txt's errno table for a default VM, one case per row, named after the row: same input, same errno (the
/// host's, where kernels differ). The rows around a guest_memfd need KVM_CAP_GUEST_MEMFD and are skipped, naming
/// it, on hosts without; the attribute rows and the plain-memslot rows run on every host.
/// Backend-agnostic: a backend's test class derives from this and says how to make its hypervisor.
/// </summary>
public abstract class ErrnoTableConformance
{
    public static TheoryData<string> GmemRows => ErrnoTableRows.Gmem.Names();

    public static TheoryData<string> Region2Rows => ErrnoTableRows.Region2.Names();

    public static TheoryData<string> RegionV1Rows => ErrnoTableRows.RegionV1.Names();

    public static TheoryData<string> OrderRows => ErrnoTableRows.Order.Names();

    public static TheoryData<string> FallocateRows => ErrnoTableRows.Fallocate.Names();

    public static TheoryData<string> AttrsRows => ErrnoTableRows.Attrs.Names();

    public static TheoryData<string> PlainRows => ErrnoTableRows.Plain.Names();

    /// <summary>Whether rows that are unsafe on real KVM (<see cref="ErrnoRow.NotOnRealKvmBecause"/>) may run on this backend.</summary>
    protected virtual bool RunsRowsUnsafeOnRealKvm => false;

    protected abstract IHypervisor CreateHypervisor();

    [Theory]
    [MemberData(nameof(GmemRows))]
    public void Gmem(string row) => Check(ErrnoTableRows.Gmem[row]);

    [Theory]
    [MemberData(nameof(Region2Rows))]
    public void Region2(string row) => Check(ErrnoTableRows.Region2[row]);

    [Theory]
    [MemberData(nameof(RegionV1Rows))]
    public void RegionV1(string row) => Check(ErrnoTableRows.RegionV1[row]);

    [Theory]
    [MemberData(nameof(OrderRows))]
    public void Order(string row) => Check(ErrnoTableRows.Order[row]);

    [Theory]
    [MemberData(nameof(FallocateRows))]
    public void Fallocate(string row) => Check(ErrnoTableRows.Fallocate[row]);

    [Theory]
    [MemberData(nameof(AttrsRows))]
    public void Attrs(string row) => Check(ErrnoTableRows.Attrs[row], HostNeed.None);

    [Theory]
    [MemberData(nameof(PlainRows))]
    public void Plain(string row) => Check(ErrnoTableRows.Plain[row], HostNeed.None);

    private void Check(ErrnoRow row, HostNeed needs = HostNeed.GuestMemfd)
    {
        if (row.NotOnRealKvmBecause is { } why && !RunsRowsUnsafeOnRealKvm)
        {
            Assert.Skip($"not run on a real kernel: {why}");
        }

        using var hypervisor = CreateHypervisor();
        HostRequirements.Require(hypervisor, needs);
        var expected = row.ExpectedFor(HostShape.Of(hypervisor));
        using var fixture = new ErrnoFixture(hypervisor, withGuestMemfd: needs.HasFlag(HostNeed.GuestMemfd));
        if (expected is { } errno)
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
