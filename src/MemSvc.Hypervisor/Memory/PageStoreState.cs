namespace MemSvc.Hypervisor.Memory;

/// <summary>[Start, End) holds Value (an attribute bit set, a fill byte, 1 for "allocated").</summary>
public sealed record ValueRun(ulong Start, ulong End, ulong Value);

/// <summary>One 4 KiB page at <paramref name="Offset"/>.</summary>
public sealed record PageState(ulong Offset, byte[] Bytes);

/// <summary>
/// A <see cref="SparsePageStore"/> as plain data, for a planned handoff: runs of one fill byte, and the 4 KiB pages
/// written with arbitrary bytes. It costs what the store costs: a 1 GiB fill is one run.
/// </summary>
public sealed record PageStoreState(IReadOnlyList<ValueRun> Fills, IReadOnlyList<PageState> Pages)
{
    /// <summary>Nothing: what a state carries for contents that were sent ahead of it.</summary>
    public static PageStoreState Empty { get; } = new([], []);
}

/// <summary>A store's contents (<paramref name="Contents"/>) at its change <paramref name="Version"/>, copied ahead of a handoff's freeze.</summary>
public sealed record StoreSnapshot(SparsePageStore Store, long Version, PageStoreState Contents);
