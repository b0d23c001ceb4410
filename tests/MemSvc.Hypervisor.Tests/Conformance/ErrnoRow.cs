namespace MemSvc.Hypervisor.Tests.Conformance;

/// <summary>
/// One row of results.txt's errno table: what to do on a fresh <see cref="ErrnoFixture"/> and the errno the real
/// kernel gave (null: success). A row with <see cref="NotOnRealKvmBecause"/> is unsafe on real KVM (a 2^31-1-page
/// memslot stalls the kernel for 26 s) and is skipped there with that reason; every backend that can run it must
/// still give its answer.
/// </summary>
public sealed record ErrnoRow(Action<ErrnoFixture> Act, Errno? Expected, string? NotOnRealKvmBecause = null);

/// <summary>A table of rows keyed by their results.txt name, so that each theory case carries the row's name.</summary>
public sealed class ErrnoRowTable : Dictionary<string, ErrnoRow>
{
    public TheoryData<string> Names()
    {
        var data = new TheoryData<string>();
        foreach (var name in Keys)
        {
            data.Add(name);
        }

        return data;
    }
}
