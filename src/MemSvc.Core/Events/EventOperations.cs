using System.Runtime.CompilerServices;
using MemSvc.Core.Errors;
using MemSvc.Core.Faults;
using MemSvc.Core.Identity;
using MemSvc.Core.Vms;

namespace MemSvc.Core.Events;

/// <summary>EventService: WatchEvents (one VM or all the caller may see) and ResolveFault.</summary>
public sealed class EventOperations
{
    private readonly CoreContext _context;
    private readonly Lock _lock = new();
    private readonly Dictionary<string, int> _watchers = new(StringComparer.Ordinal);

    internal EventOperations(CoreContext context)
    {
        _context = context;
    }

    /// <summary>
    /// Events of <paramref name="vmId"/> (or, when empty, of every VM the caller may see, new ones included) from
    /// <paramref name="startSequence"/> on (0: only new events), each exactly once and in order per VM. A compacted
    /// start fails OUT_OF_RANGE SEQUENCE_COMPACTED (for one VM, here; for all VMs, at the first read); a watcher
    /// the journal laps ends with OUT_OF_RANGE WATCHER_FELL_BEHIND. The stream ends when the VM is deleted or
    /// the manager shuts down. <paramref name="vmStarts"/> (VM id to start) overrides the start of the VMs it
    /// names in an all-VMs watch, so that a resuming watcher continues each VM where it was; a VM created after
    /// the watch began starts at 1 whatever it says, being new in full.
    /// </summary>
    public IAsyncEnumerable<VmEvent> WatchEvents(
        CallerIdentity caller,
        string? vmId,
        ulong startSequence,
        EventFilter? filter = null,
        IReadOnlyDictionary<string, ulong>? vmStarts = null,
        CancellationToken cancellationToken = default)
    {
        var request = new WatchRequest
        {
            VmId = vmId,
            StartSequence = startSequence,
            Filter = filter ?? EventFilter.All,
            VmStarts = vmStarts ?? new Dictionary<string, ulong>(),
        };
        return EventsOf(Watch(caller, request, cancellationToken), cancellationToken);
    }

    /// <summary>
    /// The watch <paramref name="request"/> describes, as <see cref="WatchEvents"/> with progress messages when it
    /// asks for them. Checks (caller, request, quota, the VM and its start) happen here, before the first read.
    /// </summary>
    public IAsyncEnumerable<WatchItem> Watch(CallerIdentity caller, WatchRequest request, CancellationToken cancellationToken = default)
    {
        CallerIdentity.Validate(caller);
        ArgumentNullException.ThrowIfNull(request);
        request.Validate();
        CheckWatcherQuota(caller.Identity, 0);
        if (request.AllVms)
        {
            return Counted(caller.Identity, MultiVmWatch.Run(_context, caller, request, cancellationToken), cancellationToken);
        }

        var journal = WatchedJournal(caller, request.VmId!, request.VmUid);

        // Past the journal's end: with the incarnation named, still this VM's future; without, maybe an earlier VM's.
        var first = journal.ResolveStart(request.StartSequence, beyondEndWaits: request.VmUid.Length > 0);
        return Counted(caller.Identity, journal.WatchItemsFrom(first, request.Filter, request.Bookmarks, cancellationToken), cancellationToken);
    }

    /// <summary>
    /// The faults vCPUs wait on now, of <paramref name="vmId"/> or (when empty) of every VM the caller may see, a
    /// page of VMs at a time, with each VM's position: each VM is read in one step, so a watch from its position
    /// sees every later change (new faults, resolutions) and none that the listing already reflects.
    /// </summary>
    public PendingFaultPage ListPendingFaults(CallerIdentity caller, string? vmId, int pageSize = 0, string? pageToken = null)
    {
        CallerIdentity.Validate(caller);
        if (pageSize < 0)
        {
            throw CoreException.InvalidArgument(ErrorReasons.InvalidPageSize, "page_size", "page_size must not be negative");
        }

        List<ManagedVm> vms;
        var next = string.Empty;
        if (!string.IsNullOrEmpty(vmId))
        {
            vms = [_context.Find(caller, vmId)];
        }
        else
        {
            var size = pageSize == 0 ? _context.Options.DefaultPageSize : Math.Min(pageSize, _context.Options.MaxPageSize);

            // One more than the page tells whether another page follows without a second pass.
            vms = _context.Registry.Page(caller, PageTokens.Decode(pageToken), size + 1);
            if (vms.Count > size)
            {
                vms.RemoveAt(size);
                next = PageTokens.Encode(vms[^1].Key);
            }
        }

        var faults = new List<PendingFaultInfo>();
        var positions = new List<VmPosition>(vms.Count);
        foreach (var vm in vms)
        {
            var (pending, nextSequence) = vm.Faults.Snapshot();

            // The position goes to the client: its events must be in the file first (see EventJournal.Persist).
            vm.Journal.Persist();
            foreach (var fault in pending)
            {
                faults.Add(new PendingFaultInfo(fault.Announcement!, DeadlineOf(fault.Announcement!.Payload) ?? fault.Announcement.Time + vm.ResolutionTimeout));
            }

            positions.Add(new VmPosition(vm.Id, vm.Uid, nextSequence));
        }

        return new PendingFaultPage(faults, positions, next);
    }

    /// <summary>
    /// Resolves a fault a vCPU waits on (ORCHESTRATOR policy). NOT_FOUND FAULT_NOT_FOUND for an id never issued,
    /// FAILED_PRECONDITION RETRY_NOT_ALLOWED for RETRY on a conversion request. A fault that is no longer pending
    /// fails with why: FAILED_PRECONDITION FAULT_ALREADY_RESOLVED (an earlier ResolveFault), FAILED_PRECONDITION
    /// FAULT_TIMED_OUT (its deadline passed; metadata action is the fallback applied), NOT_FOUND VM_NOT_FOUND (its VM
    /// was deleted). A CONVERT that cannot be applied fails the call and leaves the fault
    /// waiting. With <paramref name="vmUid"/>, a VM of that name that is another incarnation fails
    /// FAILED_PRECONDITION VM_REPLACED: fault ids start over with each VM, so fault 3 of the old VM is not fault 3
    /// of the new one.
    /// </summary>
    public FaultResolution ResolveFault(CallerIdentity caller, string vmId, ulong faultId, FaultAction action, string? vmUid = null)
    {
        VmIds.ValidateUid(vmUid ?? string.Empty, "vm_uid");
        var vm = FindIncarnation(caller, vmId, vmUid ?? string.Empty);
        return vm.Faults.Resolve(faultId, action);
    }

    private static DateTimeOffset? DeadlineOf(EventPayload payload) => payload switch
    {
        EventPayload.MemoryFault f => f.Deadline,
        EventPayload.ConversionRequested r => r.Deadline,
        _ => null,
    };

    // The journal a one-VM watch reads: the live VM's of the name (of the uid, when one is named), else a lost VM's
    // of the name and uid (the newest when no uid is named), else VM_REPLACED or NOT_FOUND as without lost VMs.
    private EventJournal WatchedJournal(CallerIdentity caller, string vmId, string vmUid)
    {
        var live = _context.TryFind(caller, vmId);
        if (live is not null && (vmUid.Length == 0 || vmUid == live.Uid))
        {
            return live.Journal;
        }

        if (_context.Lost.Find(caller, vmId, vmUid) is { } lost && (vmUid.Length > 0 || live is null))
        {
            return lost.Journal;
        }

        return FindIncarnation(caller, vmId, vmUid).Journal;
    }

    // The VM, and when a uid is named, that incarnation of it or VM_REPLACED.
    // A named incarnation that was lost says so (VM_LOST), even when a new VM holds its name now.
    private ManagedVm FindIncarnation(CallerIdentity caller, string vmId, string vmUid)
    {
        var vm = _context.Find(caller, vmId);
        if (vmUid.Length == 0 || vmUid == vm.Uid)
        {
            return vm;
        }

        throw _context.Lost.Find(caller, vmId, vmUid) is { } lost
            ? CoreErrors.VmLost(lost.Id, lost.Uid, lost.Journal.NextSequence)
            : CoreErrors.VmReplaced(vm.Id, vmUid, vm.Uid, "vm_uid");
    }

    /// <summary>
    /// The bytes a CONVERT of fault <paramref name="faultId"/> would convert while it is pending (4096 for a memory
    /// fault, the guest's range for a conversion request), or null when it is not pending (ResolveFault says why).
    /// Lets a host run small resolutions at once and hand large ones to threads that may block for long.
    /// </summary>
    public ulong? PendingFaultSize(CallerIdentity caller, string vmId, ulong faultId) =>
        _context.Find(caller, vmId).Faults.PendingSize(faultId);

    /// <summary>Open watches of <paramref name="identity"/>.</summary>
    public int ActiveWatchers(string identity)
    {
        lock (_lock)
        {
            return _watchers.GetValueOrDefault(identity);
        }
    }

    // Without progress messages every item is an event.
    private static async IAsyncEnumerable<VmEvent> EventsOf(IAsyncEnumerable<WatchItem> items, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await foreach (var item in items.WithCancellation(cancellationToken).ConfigureAwait(false))
        {
            yield return item.Event!;
        }
    }

    private async IAsyncEnumerable<WatchItem> Counted(string identity, IAsyncEnumerable<WatchItem> events, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        CheckWatcherQuota(identity, 1);
        _context.Metrics.WatcherOpened();
        try
        {
            await foreach (var evt in events.WithCancellation(cancellationToken).ConfigureAwait(false))
            {
                yield return evt;
            }
        }
        finally
        {
            lock (_lock)
            {
                if (--_watchers[identity] == 0)
                {
                    _watchers.Remove(identity);
                }
            }

            _context.Metrics.WatcherClosed();
        }
    }

    // With add = 0 only checks (at the call, so that a refused watch fails before streaming); with add = 1 takes a
    // slot when the stream starts, so an abandoned, never enumerated watch holds none.
    private void CheckWatcherQuota(string identity, int add)
    {
        var limit = _context.Options.Quotas.MaxWatchersPerOwner;
        lock (_lock)
        {
            var open = _watchers.GetValueOrDefault(identity);
            if (open >= limit)
            {
                throw CoreErrors.QuotaExceeded("max_watchers_per_owner", (ulong)limit, (ulong)open + 1);
            }

            if (add > 0)
            {
                _watchers[identity] = open + add;
            }
        }
    }
}
