using System.Collections.Concurrent;
using System.Diagnostics;
using MemSvc.Core.Errors;
using MemSvc.Core.Events;
using MemSvc.Core.Logging;
using MemSvc.Core.Telemetry;
using MemSvc.Core.Vms;
using MemSvc.Hypervisor;

namespace MemSvc.Core.Faults;

/// <summary>
/// One VM's faults: numbering (from 1, shared by memory faults and conversion requests), the policy that
/// decides them, the faults vCPUs wait on, and ResolveFault. Every fault gets exactly one FAULT_RESOLVED event.
/// </summary>
internal sealed partial class FaultCoordinator(ManagedVm vm)
{
    private readonly ConcurrentDictionary<ulong, PendingFault> _pending = new();

    // Makes "registered and announced" and "resolution journaled and unregistered" each one step for a listing
    // (ListPendingFaults), which reads the pending set and the journal's next sequence under it: a fault is listed
    // exactly when its announcement is before that position and its resolution is not. Taken once per announced and
    // per resolved ORCHESTRATOR fault, briefly (a dictionary write and a journal append), never for AUTO faults.
    private readonly Lock _listLock = new();

    // Under _listLock: the faults the fallback resolved, for FAULT_TIMED_OUT.
    private readonly TimedOutFaults _timedOut = new();
    private long _lastId;

    public ulong LastId => (ulong)Interlocked.Read(ref _lastId);

    public ulong NextId() => (ulong)Interlocked.Increment(ref _lastId);

    /// <summary>
    /// Announces a fault (<paramref name="announce"/> journals it and returns the event) and applies the VM's policy, on the vCPU's
    /// thread. Returns the action taken, or null when the VM stopped while the fault waited. Under ORCHESTRATOR the
    /// fault is registered and announced inside <paramref name="enterWaiting"/>, which marks the vCPU WAITING under the
    /// vCPU's own lock in the same step, all under the fault's lock: a watcher that reacts to the event at once finds
    /// the fault pending and the vCPU waiting on it (GetVcpu takes that lock), one that polls the vCPU until it waits
    /// finds both events journaled, and the resolution is journaled after the WAITING state.
    /// </summary>
    public FaultAction? Decide(PendingFault fault, Func<VmEvent?> announce, Action<PendingFault, Action> enterWaiting, CancellationToken stop)
    {
        CoreLog.FaultRaised(vm.Logger, vm.Id, fault.Vcpu, fault.Id, fault.IsConversionRequest ? "conversion request" : "memory fault", fault.Gpa, fault.Size, CoreMetrics.Direction(fault.ToPrivate));
        if (vm.FaultPolicy == FaultPolicy.Auto)
        {
            lock (fault.Sync)
            {
                announce();
                Apply(fault, FaultAction.Convert, byFallback: false, ConversionInitiator.Auto, throwOnFailure: false);
            }

            return fault.Action;
        }

        lock (fault.Sync)
        {
            enterWaiting(fault, () =>
            {
                lock (_listLock)
                {
                    _pending[fault.Id] = fault;
                    fault.Announcement = announce();
                }
            });
        }

        return Await(fault, vm.ResolutionTimeout, stop);
    }

    // The vCPU's wait for a resolution, then the fallback when the deadline passes. Null when the wait was cancelled:
    // the VM stopped (the fault goes), or a planned handoff froze the vCPU (the fault stays pending and moves).
    private FaultAction? Await(PendingFault fault, TimeSpan timeout, CancellationToken stop)
    {
        bool resolved;
        try
        {
            resolved = fault.Wait(timeout, stop);
        }
        catch (OperationCanceledException)
        {
            if (!Frozen)
            {
                lock (_listLock)
                {
                    _pending.TryRemove(fault.Id, out _);
                }
            }

            return null;
        }

        if (!resolved)
        {
            lock (fault.Sync)
            {
                if (fault.Action is null)
                {
                    CoreLog.FaultTimedOut(vm.Logger, vm.Id, fault.Vcpu, fault.Id, fault.Gpa, vm.ResolutionTimeout, vm.TimeoutFallback);
                    Apply(fault, vm.TimeoutFallback, byFallback: true, ConversionInitiator.Fallback, throwOnFailure: false);
                }
            }
        }

        return fault.Action;
    }

    /// <summary>ResolveFault: applies <paramref name="action"/> to a fault a vCPU waits on.</summary>
    public FaultResolution Resolve(ulong faultId, FaultAction action)
    {
        if (action is not (FaultAction.Convert or FaultAction.Retry or FaultAction.Fail))
        {
            throw CoreException.InvalidArgument(ErrorReasons.InvalidFaultAction, "action", "action must be CONVERT, RETRY or FAIL");
        }

        if (!_pending.TryGetValue(faultId, out var fault))
        {
            throw Missing(faultId);
        }

        if (fault.IsConversionRequest && action == FaultAction.Retry)
        {
            throw CoreException.FailedPrecondition(ErrorReasons.RetryNotAllowed, $"fault {faultId} is a conversion request: resolve it with CONVERT or FAIL", "action");
        }

        using var activity = CoreActivities.Start("memsvc.core.resolve_fault", vm.Id, fault.Gpa, fault.Size);
        activity?.SetTag("vcpu", fault.Vcpu);
        activity?.SetTag("fault_id", faultId);
        activity?.SetTag("action", action.ToString());
        lock (fault.Sync)
        {
            if (fault.Action is not null)
            {
                throw Missing(faultId);
            }

            Apply(fault, action, byFallback: false, ConversionInitiator.Orchestrator, throwOnFailure: true);
            return new FaultResolution(vm.Id, faultId, action, false, Stopwatch.GetElapsedTime(fault.RaisedAt));
        }
    }

    /// <summary>
    /// The faults pending now, by sequence, and the journal's next sequence: the position from which a watch sees
    /// every later change to that set (new faults, resolutions) and nothing the listing already reflects.
    /// </summary>
    public (IReadOnlyList<PendingFault> Faults, ulong NextSequence) Snapshot()
    {
        lock (_listLock)
        {
            var next = vm.Journal.NextSequence;
            var faults = new List<PendingFault>(_pending.Count);
            foreach (var fault in _pending.Values)
            {
                // Null only when the journal had completed (the VM is being deleted): nothing to resolve then.
                if (fault.Announcement is not null)
                {
                    faults.Add(fault);
                }
            }

            faults.Sort((a, b) => a.Announcement!.Sequence.CompareTo(b.Announcement!.Sequence));
            return (faults, next);
        }
    }

    /// <summary>The size of pending fault <paramref name="faultId"/>, or null when none is pending under that id.</summary>
    public ulong? PendingSize(ulong faultId) => _pending.TryGetValue(faultId, out var fault) ? fault.Size : null;

    /// <summary>The VM stops: nobody waits any more (the vCPUs leave through their stop token).</summary>
    public void Clear()
    {
        lock (_listLock)
        {
            _pending.Clear();
        }
    }

    // Under fault.Sync. A CONVERT that cannot be applied fails the fault when nobody can be told (AUTO, fallback)
    // and throws to the caller of ResolveFault otherwise, leaving the fault pending.
    private void Apply(PendingFault fault, FaultAction action, bool byFallback, ConversionInitiator initiator, bool throwOnFailure)
    {
        string? failure = null;
        var applied = action;
        if (action == FaultAction.Convert)
        {
            failure = throwOnFailure ? null : WhyConversionCannotHelp(fault);
            if (failure is null)
            {
                try
                {
                    vm.Converter.Convert(fault.Gpa, fault.Size, fault.ToPrivate, initiator, fault.Id, fault.Vcpu);
                }
                catch (Exception e) when (!throwOnFailure && e is CoreException or HypervisorException)
                {
                    CoreLog.FaultConversionFailed(vm.Logger, e, vm.Id, fault.Id, initiator);
                    failure = $"{initiator} conversion for fault {fault.Id} failed: {e.Message}";
                }
            }
        }
        else if (action == FaultAction.Retry && fault.IsConversionRequest)
        {
            failure = $"fault {fault.Id}: a conversion request cannot be retried; the fallback fails it";
        }
        else if (action == FaultAction.Fail)
        {
            failure = $"fault {fault.Id} failed by {(byFallback ? "the timeout fallback" : "the orchestrator")}";
        }

        if (failure is not null)
        {
            applied = FaultAction.Fail;
        }

        var latency = Stopwatch.GetElapsedTime(fault.RaisedAt);
        var resolved = new EventPayload.FaultResolved(fault.Id, applied, byFallback, (long)latency.TotalNanoseconds, fault.Vcpu);
        if (fault.Announcement is null)
        {
            // AUTO, or a journal that had completed: no listing can see it.
            vm.Journal.Append(resolved);
            _pending.TryRemove(fault.Id, out _);
        }
        else
        {
            lock (_listLock)
            {
                vm.Journal.Append(resolved);
                _pending.TryRemove(fault.Id, out _);
                if (byFallback)
                {
                    _timedOut.Add(fault.Id, applied);
                }
            }
        }

        vm.Metrics.FaultResolved(vm.Id, vm.Uid, applied, byFallback, latency);
        CoreLog.FaultResolved(vm.Logger, vm.Id, fault.Vcpu, fault.Id, applied, byFallback, latency.TotalMilliseconds);
        fault.MarkResolved(applied, failure);
    }

    // A memory fault on a page that already has the attribute the access wanted (a revoked backing, a missing
    // shared side) would fault again forever after a "conversion": fail it instead of spinning.
    private string? WhyConversionCannotHelp(PendingFault fault)
    {
        if (fault.IsConversionRequest)
        {
            return null;
        }

        var runs = vm.Vm.GetMemoryAttributes(fault.Gpa, fault.Size);
        var wanted = fault.ToPrivate ? MemoryAttributes.Private : MemoryAttributes.None;
        return runs.Count == 1 && runs[0].Attributes == wanted
            ? $"fault {fault.Id}: the page at {CoreErrors.Hex(fault.Gpa)} is already {(fault.ToPrivate ? "private" : "shared")}; converting cannot resolve it"
            : null;
    }

    /// <summary>
    /// Why <paramref name="faultId"/> is not pending: never issued (NOT_FOUND FAULT_NOT_FOUND), its VM deleted
    /// meanwhile (NOT_FOUND VM_NOT_FOUND), its deadline passed and the fallback applied (FAILED_PRECONDITION
    /// FAULT_TIMED_OUT, metadata action), or resolved by an earlier ResolveFault (FAILED_PRECONDITION
    /// FAULT_ALREADY_RESOLVED). Each tells a client that the fault is over and a retry would change nothing.
    /// </summary>
    private CoreException Missing(ulong faultId)
    {
        var id = CoreErrors.Dec(faultId);
        if (faultId == 0 || faultId > LastId)
        {
            return new CoreException(ErrorKind.NotFound, ErrorReasons.FaultNotFound, $"vm '{vm.Id}' has no fault {faultId}", "fault_id", CoreErrors.Meta("fault_id", id));
        }

        if (vm.IsDeleted)
        {
            return CoreErrors.VmNotFound(vm.Id);
        }

        FaultAction? fallback;
        lock (_listLock)
        {
            fallback = _timedOut.Find(faultId);
        }

        return fallback is { } applied
            ? new CoreException(
                ErrorKind.FailedPrecondition,
                ErrorReasons.FaultTimedOut,
                $"fault {faultId} of vm '{vm.Id}' timed out: its fallback {applied} was applied",
                "fault_id",
                new Dictionary<string, string> { ["fault_id"] = id, ["action"] = applied.ToString().ToUpperInvariant() })
            : new CoreException(ErrorKind.FailedPrecondition, ErrorReasons.FaultAlreadyResolved, $"fault {faultId} of vm '{vm.Id}' is already resolved", "fault_id", CoreErrors.Meta("fault_id", id));
    }
}
