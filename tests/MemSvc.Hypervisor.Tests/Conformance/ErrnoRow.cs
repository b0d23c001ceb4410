namespace MemSvc.Hypervisor.Tests.Conformance;

/// <summary>
/// One row of the errno table: what to do on a fresh <see cref="ErrnoFixture"/> and the errno the kernel gives
/// (null: success). Most rows have one answer on every kernel; a row whose answer depends on the host takes it
/// from the host's <see cref="HostShape"/> (<see cref="ExpectedOn"/>). A row with <see cref="NotOnRealKvmBecause"/>
/// is unsafe on real KVM (a 2^31-1-page memslot stalls the kernel for 26 s) and is skipped there with that reason;
/// every backend that can run it must still give its answer.
/// </summary>
public sealed record ErrnoRow(Action<ErrnoFixture> Act, Errno? Expected, string? NotOnRealKvmBecause = null)
{
    /// <summary>The host-dependent answer, when the row has one; <see cref="Expected"/> otherwise.</summary>
    public Func<HostShape, Errno?>? ExpectedOn { get; init; }

    public Errno? ExpectedFor(HostShape host) => ExpectedOn is { } on ? on(host) : Expected;

    /// <summary>A row whose answer is decided by the host alone.</summary>
    public static ErrnoRow On(Action<ErrnoFixture> act, Func<HostShape, Errno?> expected) =>
        new(act, null) { ExpectedOn = expected };
}

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
