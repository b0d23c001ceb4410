using MemSvc.Hypervisor.Memory;

namespace MemSvc.Hypervisor.Simulated.Handoff;

/// <summary>
/// The old side's record of what went to the next process with the journal copy, before the freeze (handoff
/// version 4): each vCPU's program (by index) and the contents of each page store (by <see cref="SentAheadKeys"/>). At
/// the freeze a program still loaded, or a store unchanged since, is left out of the state.
/// </summary>
public sealed record SentAhead(Func<int, GuestProgram?> Program, Func<string, StoreSnapshot?> Contents);

/// <summary>The new side's: what came ahead of the state, by the same keys, for the parts the state left out.</summary>
public sealed record CameAhead(Func<int, GuestProgram?> Program, Func<string, PageStoreState?> Contents);

/// <summary>How a VM's page stores are named between the two processes: a guest_memfd by its inode, a memslot's anonymous shared side by its slot.</summary>
public static class SentAheadKeys
{
    public static string File(ulong inode) => FormattableString.Invariant($"file {inode}");

    public static string Slot(uint asId, uint id) => FormattableString.Invariant($"slot {asId}/{id}");
}
