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
        CallerIdentity.Validate(caller);
        filter ??= EventFilter.All;
        filter.Validate();
        vmStarts ??= new Dictionary<string, ulong>();
        if (!string.IsNullOrEmpty(vmId) && vmStarts.Count > 0)
        {
            throw CoreException.InvalidArgument(
                ErrorReasons.InvalidStartSequences,
                "start_sequences",
                "per-VM starts are for an all-VMs watch; a watch of one VM takes start_sequence");
        }

        CheckWatcherQuota(caller.Identity, 0);
        if (string.IsNullOrEmpty(vmId))
        {
            return Counted(caller.Identity, MultiVmWatch.Run(_context, caller, startSequence, vmStarts, filter, cancellationToken), cancellationToken);
        }

        var vm = _context.Find(caller, vmId);
        var first = vm.Journal.ResolveStart(startSequence);
        return Counted(caller.Identity, vm.Journal.WatchFrom(first, filter, cancellationToken), cancellationToken);
    }

    /// <summary>
    /// Resolves a fault a vCPU waits on (ORCHESTRATOR policy). NOT_FOUND FAULT_NOT_FOUND for an id never issued,
    /// FAILED_PRECONDITION FAULT_ALREADY_RESOLVED for one resolved before, FAILED_PRECONDITION RETRY_NOT_ALLOWED
    /// for RETRY on a conversion request. A CONVERT that cannot be applied fails the call and leaves the fault
    /// waiting.
    /// </summary>
    public FaultResolution ResolveFault(CallerIdentity caller, string vmId, ulong faultId, FaultAction action)
    {
        var vm = _context.Find(caller, vmId);
        return vm.Faults.Resolve(faultId, action);
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

    private async IAsyncEnumerable<VmEvent> Counted(string identity, IAsyncEnumerable<VmEvent> events, [EnumeratorCancellation] CancellationToken cancellationToken)
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
