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
internal sealed class FaultCoordinator(ManagedVm vm)
{
    private readonly ConcurrentDictionary<ulong, PendingFault> _pending = new();
    private long _lastId;

    public ulong LastId => (ulong)Interlocked.Read(ref _lastId);

    public ulong NextId() => (ulong)Interlocked.Increment(ref _lastId);

    /// <summary>
    /// Announces a fault (<paramref name="announce"/> journals it) and applies the VM's policy, on the vCPU's
    /// thread. Returns the action taken, or null when the VM stopped while the fault waited. Under ORCHESTRATOR the
    /// fault is registered, announced and the vCPU marked WAITING (<paramref name="enterWaiting"/>) under the
    /// fault's lock, so a watcher that reacts to the event at once finds the fault pending and its resolution is
    /// journaled after the WAITING state.
    /// </summary>
    public FaultAction? Decide(PendingFault fault, Action announce, Action<PendingFault> enterWaiting, CancellationToken stop)
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
            _pending[fault.Id] = fault;
            announce();
            enterWaiting(fault);
        }

        bool resolved;
        try
        {
            resolved = fault.Wait(vm.ResolutionTimeout, stop);
        }
        catch (OperationCanceledException)
        {
            _pending.TryRemove(fault.Id, out _);
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

    /// <summary>The size of pending fault <paramref name="faultId"/>, or null when none is pending under that id.</summary>
    public ulong? PendingSize(ulong faultId) => _pending.TryGetValue(faultId, out var fault) ? fault.Size : null;

    /// <summary>The VM stops: nobody waits any more (the vCPUs leave through their stop token).</summary>
    public void Clear() => _pending.Clear();

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
        vm.Journal.Append(new EventPayload.FaultResolved(fault.Id, applied, byFallback, (long)latency.TotalNanoseconds, fault.Vcpu));
        vm.Metrics.FaultResolved(vm.Id, applied, byFallback, latency);
        CoreLog.FaultResolved(vm.Logger, vm.Id, fault.Vcpu, fault.Id, applied, byFallback, latency.TotalMilliseconds);
        _pending.TryRemove(fault.Id, out _);
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

    private CoreException Missing(ulong faultId) =>
        faultId == 0 || faultId > LastId
            ? new CoreException(ErrorKind.NotFound, ErrorReasons.FaultNotFound, $"vm '{vm.Id}' has no fault {faultId}", "fault_id", CoreErrors.Meta("fault_id", CoreErrors.Dec(faultId)))
            : new CoreException(ErrorKind.FailedPrecondition, ErrorReasons.FaultAlreadyResolved, $"fault {faultId} of vm '{vm.Id}' is already resolved", "fault_id", CoreErrors.Meta("fault_id", CoreErrors.Dec(faultId)));
}
