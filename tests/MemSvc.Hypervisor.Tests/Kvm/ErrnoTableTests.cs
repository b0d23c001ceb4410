namespace MemSvc.Hypervisor.Tests.Kvm;

/// <summary>Every row of the probe's errno table, asked of the real kernel through the kvm backend: same input, same errno.</summary>
public class ErrnoTableTests
{
    public static TheoryData<string> RowNames => [.. ErrnoTable.Rows.Select(r => r.Name)];

    [Fact]
    public void Every_runnable_row_of_the_table_has_an_action()
    {
        var runnable = ErrnoTable.Rows.Where(r => r.NotRunBecause is null).ToList();
        Assert.Empty(runnable.Where(r => !ErrnoRowActions.ByName.ContainsKey(r.Name)).Select(r => r.Name));
        Assert.Equal(runnable.Count, ErrnoRowActions.ByName.Count);
        Assert.Equal(110, runnable.Count);
    }

    [Theory]
    [MemberData(nameof(RowNames))]
    public void Row(string name)
    {
        var row = ErrnoTable.Rows.Single(r => r.Name == name);
        if (row.NotRunBecause is { } why)
        {
            Assert.Skip($"not run on a real kernel: {why}");
        }

        using var fixture = new ErrnoFixture(KvmTestHost.Open());
        string result;
        try
        {
            result = ErrnoRowActions.ByName[name](fixture);
        }
        catch (HypervisorException e)
        {
            result = e.Errno.ToString();
        }

        Assert.Equal(row.Result, result);
    }
}
