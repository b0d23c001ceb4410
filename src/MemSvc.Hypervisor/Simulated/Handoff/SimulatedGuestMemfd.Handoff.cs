using MemSvc.Hypervisor.Memory;
using MemSvc.Hypervisor.Simulated.Handoff;

namespace MemSvc.Hypervisor.Simulated;

public sealed partial class SimulatedGuestMemfd
{
    // Under the owner's lock.
    internal SimulatedFileState ExportLocked()
    {
        var allocated = _allocated.Runs(0, ulong.MaxValue).Where(r => r.Value).Select(r => new ValueRun(r.Start, r.End, 1)).ToList();
        return new SimulatedFileState(Inode, Size, Flags, _fdOpen, allocated, Store.Export());
    }

    // Under the owner's lock, on a file just made for the handoff: its mappings and bindings are added after.
    internal void ImportLocked(SimulatedFileState state)
    {
        _fdOpen = state.FdOpen;
        foreach (var run in state.Allocated)
        {
            _allocated.Set(run.Start, run.End, true);
        }

        Store.Load(state.Contents);
    }
}
