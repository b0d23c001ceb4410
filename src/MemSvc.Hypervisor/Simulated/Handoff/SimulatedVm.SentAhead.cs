using MemSvc.Hypervisor.Memory;
using MemSvc.Hypervisor.Simulated.Handoff;

namespace MemSvc.Hypervisor.Simulated;

/// <summary>
/// What of the VM goes to the next process before a handoff's freeze (version 4), while its vCPUs still run: what
/// changes seldom and weighs most, the guest programs and the page stores' contents. The freeze's
/// <see cref="Export"/> then leaves out whatever is unchanged since.
/// </summary>
public sealed partial class SimulatedVm
{
    /// <summary>Each vCPU's loaded program by index, to send ahead of a handoff's freeze (it moves unchanged).</summary>
    public IReadOnlyList<(int Vcpu, GuestProgram Program)> LoadedPrograms()
    {
        List<SimulatedVcpu> vcpus;
        lock (SyncRoot)
        {
            vcpus = [.. _vcpus.Values];
        }

        return [.. vcpus.Select(v => (v.Index, Program: v.LoadedProgram)).Where(p => p.Program is not null).Select(p => (p.Index, p.Program!))];
    }

    /// <summary>
    /// The contents of every page store the export would carry (the files of <paramref name="openFiles"/> and those
    /// memslots hold, the memslots' anonymous shared sides), each with the change it is at, by
    /// <see cref="SentAheadKeys"/>.
    /// </summary>
    public IReadOnlyList<(string Key, StoreSnapshot Contents)> ContentsSnapshots(IEnumerable<IGuestMemfd> openFiles)
    {
        ArgumentNullException.ThrowIfNull(openFiles);
        lock (SyncRoot)
        {
            ThrowIfDisposed("handoff");
            var snapshots = HeldFilesLocked(openFiles).Values.Select(f => (SentAheadKeys.File(f.Inode), f.Store.Snapshot())).ToList();
            foreach (var slot in AllSlots)
            {
                if (slot.OwnedMapping is AnonymousMapping anonymous)
                {
                    snapshots.Add((SentAheadKeys.Slot(slot.AsId, slot.Id), anonymous.Store.Snapshot()));
                }
            }

            return snapshots;
        }
    }

    private static HypervisorException ContentsMissing(ulong start) =>
        Fail.Inval("handoff", $"the shared side at 0x{start:x}: its contents were to come ahead of the state, and did not", "contents");

    // Under the lock: the files the export carries, by inode: those whose fd the caller holds, and those memslots or
    // their mappings still hold.
    private SortedDictionary<ulong, SimulatedGuestMemfd> HeldFilesLocked(IEnumerable<IGuestMemfd> openFiles)
    {
        var held = new SortedDictionary<ulong, SimulatedGuestMemfd>();
        foreach (var file in openFiles)
        {
            Hold(held, file as SimulatedGuestMemfd ?? throw Fail.Inval("handoff", $"{file} is not a guest_memfd of the simulated backend", "guest_memfd"));
        }

        foreach (var slot in AllSlots)
        {
            if (slot.GuestMemfd is { } bound)
            {
                Hold(held, bound);
            }

            if (slot.OwnedMapping is GuestMemfdMapping mapped)
            {
                Hold(held, mapped.File);
            }
        }

        return held;
    }
}
