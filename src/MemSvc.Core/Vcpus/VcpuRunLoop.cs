using MemSvc.Core.Errors;
using MemSvc.Core.Events;
using MemSvc.Core.Faults;
using MemSvc.Core.Logging;
using MemSvc.Hypervisor;

namespace MemSvc.Core.Vcpus;

/// <summary>The run loop: KVM_RUN, then one handler per exit, until the vCPU halts, fails, pauses or stops.</summary>
internal sealed partial class VcpuRunner
{
    private void Loop()
    {
        try
        {
            while (!Volatile.Read(ref _stopping))
            {
                VmExit exit;
                try
                {
                    exit = _vcpu.Run();
                }
                catch (HypervisorException e)
                {
                    CoreLog.VcpuRunError(_vm.Logger, _vm.Id, Index, e);
                    Count(VcpuExitKind.RunError);
                    Finish(VcpuState.Failed, $"KVM_RUN failed: {e.Errno}: {e.Reason}");
                    return;
                }

                Count(VcpuExitKinds.Of(exit));
                if (Volatile.Read(ref _stopping) || !Handle(exit))
                {
                    return;
                }
            }
        }
        catch (Exception e) when (e is HypervisorException or CoreException)
        {
            // A backend call made while handling an exit (CompleteHypercall, an attribute read) failed: the vCPU
            // cannot go on, but the service must.
            CoreLog.VcpuRunError(_vm.Logger, _vm.Id, Index, e);
            Finish(VcpuState.Failed, $"exit handling failed: {e.Message}");
        }
    }

    // True to run again.
    private bool Handle(VmExit exit)
    {
        switch (exit)
        {
            case VmExit.MemoryFault fault:
                return HandleMemoryFault(fault);
            case VmExit.MapGpaRange request:
                return HandleConversionRequest(request);
            case VmExit.PortIo { Port: GuestProgram.ReportPort, IsWrite: true } report:
                _vm.Journal.Append(new EventPayload.GuestReport(Index, report.Port, report.Value));
                return true;
            case VmExit.PortIo io:
                return Finish(VcpuState.Failed, $"unexpected port {(io.IsWrite ? "write" : "read")} of {io.Size} bytes at port {CoreErrors.Hex(io.Port)}");
            case VmExit.Mmio mmio:
                return Finish(VcpuState.Failed, $"MMIO {(mmio.IsWrite ? "write" : "read")} of {mmio.Length} bytes at gpa {CoreErrors.Hex(mmio.Gpa)}: no memory region serves it");
            case VmExit.Halt:
                return Finish(VcpuState.Halted, "the guest program halted");
            case VmExit.Shutdown:
                return Finish(VcpuState.Shutdown, "KVM_EXIT_SHUTDOWN: the guest triple-faulted");
            case VmExit.InternalError error:
                return Finish(VcpuState.Failed, $"KVM internal error (suberror {error.Suberror}): {error.Reason}");
            case VmExit.GuestAbort abort:
                return Finish(VcpuState.Failed, Describe(abort));
            case VmExit.Interrupted:
                return HandleInterrupted();
            default:
                return Finish(VcpuState.Failed, $"unknown exit {exit.GetType().Name}");
        }
    }

    private bool HandleMemoryFault(VmExit.MemoryFault exit)
    {
        var fault = new PendingFault(_vm.Faults.NextId(), Index, exit.Gpa, exit.Size, exit.IsPrivate, isConversionRequest: false);
        VmEvent? Announce()
        {
            var evt = _vm.Journal.Append(new EventPayload.MemoryFault(Index, exit.Gpa, exit.Size, exit.IsPrivate, (ulong)exit.Flags, fault.Id, Deadline()));
            _vm.Metrics.Fault(_vm.Id, _vm.Uid, exit.IsPrivate);
            return evt;
        }

        return AfterMemoryFault(fault, _vm.Faults.Decide(fault, Announce, EnterWaiting, WaitToken));
    }

    // What the vCPU does once its memory fault is decided (null: the VM stopped or froze): run again, or fail.
    private bool AfterMemoryFault(PendingFault fault, FaultAction? action)
    {
        if (action is null)
        {
            return false;
        }

        if (action == FaultAction.Fail)
        {
            return Finish(VcpuState.Failed, fault.FailureReason ?? $"fault {fault.Id} failed");
        }

        LeaveWaiting(fault, action.Value);
        return true;
    }

    private bool HandleConversionRequest(VmExit.MapGpaRange exit)
    {
        var fault = new PendingFault(_vm.Faults.NextId(), Index, exit.Gpa, exit.Size, exit.ToPrivate, isConversionRequest: true);
        VmEvent? Announce() => _vm.Journal.Append(new EventPayload.ConversionRequested(Index, exit.Gpa, exit.Size, exit.ToPrivate, fault.Id, Deadline()));

        return AfterConversionRequest(fault, _vm.Faults.Decide(fault, Announce, EnterWaiting, WaitToken));
    }

    // What the vCPU does once the guest's conversion request is decided (null: the VM stopped or froze).
    private bool AfterConversionRequest(PendingFault fault, FaultAction? action)
    {
        if (action is null)
        {
            return false;
        }

        // A refused conversion is the guest's to handle: it sees the error and, as the selftests' guests do, aborts.
        _vcpu.CompleteHypercall(action == FaultAction.Convert ? 0 : VmExit.MapGpaRange.Refused);
        LeaveWaiting(fault, action.Value);
        return true;
    }

    // When the fallback applies to a fault announced now (its wait starts right after): what an orchestrator's
    // handler may take; none under AUTO, where nobody is waited for.
    private DateTimeOffset? Deadline() =>
        _vm.FaultPolicy == FaultPolicy.Orchestrator ? _vm.Time.GetUtcNow() + _vm.ResolutionTimeout : null;

    private bool HandleInterrupted()
    {
        lock (_sync)
        {
            if (_stopping)
            {
                return false;
            }

            if (_pauseRequested)
            {
                _pauseRequested = false;
                SetState(VcpuState.Paused, "paused by PauseVcpu");
                return false;
            }

            if (_freezing)
            {
                // A planned handoff: the loop ends at this step boundary and the state stays what it is.
                return false;
            }
        }

        // A stale exit request (a pause that raced with the end of a previous run): keep running.
        return true;
    }

    // The fault's announcement and the WAITING state in one step under the vCPU's lock, which GetVcpu takes too: nobody
    // sees the one without the other, whether they react to the event or poll the vCPU.
    private void EnterWaiting(PendingFault fault, Action announce)
    {
        lock (_sync)
        {
            announce();
            _currentFaultId = fault.Id;
            _waitingOn = fault;
            var what = fault.IsConversionRequest ? "conversion request" : "memory fault";
            SetState(VcpuState.Waiting, $"waiting on fault {fault.Id}: {what} at gpa {CoreErrors.Hex(fault.Gpa)} to {(fault.ToPrivate ? "private" : "shared")}");
        }
    }

    private void LeaveWaiting(PendingFault fault, FaultAction action)
    {
        lock (_sync)
        {
            if (_state == VcpuState.Waiting)
            {
                _currentFaultId = 0;
                SetState(VcpuState.Running, $"fault {fault.Id} resolved: {action}");
            }
        }
    }

    // Always false: the loop ends.
    private bool Finish(VcpuState state, string reason)
    {
        lock (_sync)
        {
            _currentFaultId = 0;
            SetState(state, reason);
        }

        return false;
    }

    private static string Describe(VmExit.GuestAbort abort) => abort.Reason switch
    {
        GuestAbortReason.PatternMismatch =>
            $"guest abort at step {abort.Step}: pattern check at gpa {CoreErrors.Hex(abort.Gpa)} expected {CoreErrors.Hex(abort.Expected)}, read {CoreErrors.Hex(abort.Actual)}",
        GuestAbortReason.HypercallFailed =>
            $"guest abort at step {abort.Step}: MAP_GPA_RANGE at gpa {CoreErrors.Hex(abort.Gpa)} returned {CoreErrors.Hex(abort.Actual)}",
        _ => $"guest abort at step {abort.Step}: {abort.Reason}",
    };
}
