using MemSvc.Core.Vms;

namespace MemSvc.Core.Events;

/// <summary>
/// Where an all-VMs watch starts each VM that exists when it begins, and which incarnations its client named that
/// exist no more. A VM named in the request's positions by its uid starts at its position; named by an
/// incarnation that is gone, the old one is reported ended and the VM that holds the name now, another one, is
/// new to the watcher in full, from 1. Every start is checked here, before anything is sent.
/// </summary>
internal sealed record WatchStartPlan(IReadOnlyList<WatchStart> Starts, IReadOnlyList<WatchNotice.VmEnded> Ended)
{
    /// <param name="existing">The VMs the caller may see now.</param>
    /// <param name="request">The watch.</param>
    /// <param name="lost">The lost VM of a uid, when the caller may see it: a position naming it resumes its journal, which ends with VM_LOST.</param>
    public static WatchStartPlan Make(IReadOnlyList<ManagedVm> existing, WatchRequest request, Func<string, string, LostVm?>? lost = null)
    {
        // Names are per owner, so an admin's positions may name one VM name several times, once per incarnation.
        var positions = request.Positions.ToList();
        var existingUids = existing.Select(v => v.Uid).ToHashSet(StringComparer.Ordinal);
        var starts = new List<WatchStart>(existing.Count);
        var ended = new List<WatchNotice.VmEnded>();

        // Lost incarnations first, so that each is read to its VM_LOST before a new VM of its name begins.
        var lostNames = new HashSet<string>(StringComparer.Ordinal);
        foreach (var position in positions.Where(p => p.VmUid.Length > 0 && !existingUids.Contains(p.VmUid)).ToList())
        {
            if (lost?.Invoke(position.VmId, position.VmUid) is { } gone)
            {
                positions.Remove(position);
                lostNames.Add(gone.Id);
                starts.Add(new WatchStart(gone.Key, gone.Journal, gone.Journal.ResolveStart(position.NextSequence, "positions", beyondEndWaits: true)));
            }
        }

        foreach (var vm in existing)
        {
            var position = Take(positions, vm, existingUids);
            if (position is null && lostNames.Contains(vm.Id))
            {
                // The VM that holds a lost VM's name now is new to this watcher in full.
                starts.Add(new WatchStart(vm.Key, vm.Journal, 1));
            }
            else if (position is null)
            {
                var start = StartOf(vm, request.VmStarts, request.StartSequence, out var own);
                starts.Add(new WatchStart(vm.Key, vm.Journal, vm.Journal.ResolveStart(start, own ? "start_sequences" : "start_sequence", beyondEndWaits: !own)));
            }
            else if (position.VmUid.Length == 0)
            {
                starts.Add(new WatchStart(vm.Key, vm.Journal, vm.Journal.ResolveStart(position.NextSequence > vm.Journal.NextSequence ? 1 : position.NextSequence, "positions")));
            }
            else if (position.VmUid == vm.Uid)
            {
                starts.Add(new WatchStart(vm.Key, vm.Journal, vm.Journal.ResolveStart(position.NextSequence, "positions", beyondEndWaits: true)));
            }
            else
            {
                ended.Add(new WatchNotice.VmEnded(position.VmId, position.VmUid, position.NextSequence, VmEndReason.Replaced));
                starts.Add(new WatchStart(vm.Key, vm.Journal, 1));
            }
        }

        // Named incarnations without a VM of their name: deleted (or never visible to this caller, which looks the same).
        foreach (var gone in positions.Where(p => p.VmUid.Length > 0).OrderBy(p => p.VmId, StringComparer.Ordinal))
        {
            ended.Add(new WatchNotice.VmEnded(gone.VmId, gone.VmUid, gone.NextSequence, VmEndReason.Deleted));
        }

        return new WatchStartPlan(starts, ended);
    }

    /// <summary>
    /// The position meant for <paramref name="vm"/>, removed from <paramref name="positions"/>: the one naming its
    /// uid, else the one of its name without a uid, else one of its name whose incarnation no VM has now (the one
    /// this VM replaced). A position naming another existing VM of the same name (another owner's) is left to it.
    /// </summary>
    private static VmPosition? Take(List<VmPosition> positions, ManagedVm vm, HashSet<string> existingUids)
    {
        var index = positions.FindIndex(p => p.VmId == vm.Id && p.VmUid == vm.Uid);
        if (index < 0)
        {
            index = positions.FindIndex(p => p.VmId == vm.Id && p.VmUid.Length == 0);
        }

        if (index < 0)
        {
            index = positions.FindIndex(p => p.VmId == vm.Id && !existingUids.Contains(p.VmUid));
        }

        if (index < 0)
        {
            return null;
        }

        var position = positions[index];
        positions.RemoveAt(index);
        return position;
    }

    /// <summary>
    /// A VM's own start (start_sequences), else the watch's. A per-VM start past the VM's next sequence cannot
    /// come from this VM (a watcher only holds positions of events that exist): it is a position in an earlier VM
    /// of the same name, deleted since, so this one is new to the watcher in full and starts at 1.
    /// </summary>
    private static ulong StartOf(ManagedVm vm, IReadOnlyDictionary<string, ulong> vmStarts, ulong startSequence, out bool own)
    {
        own = vmStarts.TryGetValue(vm.Id, out var start);
        if (!own)
        {
            return startSequence;
        }

        return start > vm.Journal.NextSequence ? 1 : start;
    }
}

/// <summary>Where an all-VMs watch starts one journal: a live VM's, or a lost VM's that a position named.</summary>
internal sealed record WatchStart(VmKey Key, EventJournal Journal, ulong First);
