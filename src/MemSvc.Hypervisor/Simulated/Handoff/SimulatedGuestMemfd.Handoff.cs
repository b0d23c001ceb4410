using MemSvc.Hypervisor.Memory;
using MemSvc.Hypervisor.Simulated.Handoff;

namespace MemSvc.Hypervisor.Simulated;

public sealed partial class SimulatedGuestMemfd
{
    // Under the owner's lock. Contents sent ahead (<paramref name="sent"/>) and unchanged since are left out.
    internal SimulatedFileState ExportLocked(StoreSnapshot? sent)
    {
        var allocated = _allocated.Runs(0, ulong.MaxValue).Where(r => r.Value).Select(r => new ValueRun(r.Start, r.End, 1)).ToList();
        var ahead = sent is not null && Store.IsUnchangedSince(sent);
        return new SimulatedFileState(Inode, Size, Flags, _fdOpen, allocated, ahead ? PageStoreState.Empty : Store.Export(), ahead);
    }

    // Under the owner's lock, on a file just made for the handoff: its mappings and bindings are added after.
    // Contents that came ahead of the state are <paramref name="cameAhead"/>.
    internal void ImportLocked(SimulatedFileState state, PageStoreState? cameAhead)
    {
        _fdOpen = state.FdOpen;
        foreach (var run in state.Allocated)
        {
            _allocated.Set(run.Start, run.End, true);
        }

        Store.Load(state.ContentsSentAhead
            ? cameAhead ?? throw Fail.Inval("handoff", $"guest_memfd of inode {state.Inode}: its contents were to come ahead of the state, and did not", "contents")
            : state.Contents);
    }
}
