using MemSvc.Core.Errors;
using MemSvc.Core.Faults;
using MemSvc.Core.Handoff;
using MemSvc.Core.Logging;
using MemSvc.Hypervisor;

namespace MemSvc.Core.Vcpus;

/// <summary>
/// A planned handoff's part of the vCPU: freezing ends the run loop's thread at a step boundary without changing the
/// state machine (a RUNNING vCPU stays RUNNING, a WAITING one keeps its fault pending), so that the state can be
/// exported; thawing starts the thread again from that state, in the next process or, when the handoff is called
/// off, in this one.
/// </summary>
internal sealed partial class VcpuRunner
{
    private volatile bool _freezing;

    // Under _sync: the fault a WAITING vCPU waits on, kept here so that a thaw finds it even when it was resolved
    // while the vCPU was frozen (and so is no longer pending), and goes on with that resolution.
    private PendingFault? _waitingOn;

    // Cancels a wait on a fault for a freeze (and with _stop, for good); replaced at each thaw.
    private CancellationTokenSource? _run;

    private CancellationToken WaitToken => _run?.Token ?? _stop.Token;

    /// <summary>When the run loop's thread ended for a freeze, by its own clock reading as it left; null before.</summary>
    public DateTimeOffset? FrozenAt { get; private set; }

    /// <summary>
    /// Tells the run loop's thread to end at its next step boundary, without waiting (<see cref="AwaitFrozen"/>
    /// waits), so that every vCPU of the host is told at once and they stop together rather than one after another.
    /// False when there is no thread to end (a vCPU that was not running has nothing to stop).
    /// </summary>
    public bool RequestFreeze()
    {
        Thread? thread;
        lock (_sync)
        {
            _freezing = true;
            FrozenAt = null;
            thread = _thread is { IsAlive: true } alive ? alive : null;
            if (thread is null)
            {
                return false;
            }
        }

        _vcpu.RequestExit();
        _run?.Cancel();
        return true;
    }

    /// <summary>
    /// After <see cref="RequestFreeze"/>: false when the thread did not end within <paramref name="timeout"/>. No
    /// other thread replaces it meanwhile: calls are held off during a handoff, and only a thaw starts another.
    /// </summary>
    public bool AwaitFrozen(TimeSpan timeout)
    {
        Thread? thread;
        lock (_sync)
        {
            thread = _thread;
        }

        return thread?.Join(timeout) ?? true;
    }

    /// <summary>Starts the run loop again where the freeze (or the previous process) left it.</summary>
    public void Thaw()
    {
        lock (_sync)
        {
            _freezing = false;
            if (_state is not (VcpuState.Running or VcpuState.Waiting))
            {
                return;
            }

            JoinFinishedThread();
            RenewRunToken();
            var fault = _state == VcpuState.Waiting ? _waitingOn ?? _vm.Faults.Pending(_currentFaultId) : null;
            _thread = new Thread(() => RunThawed(fault)) { IsBackground = true, Name = $"vcpu {_vm.Id}/{Index}" };
            _thread.Start();
        }
    }

    // The thread's last clock reading, before it logs its end: when it stopped running the guest, for a freeze.
    private void StampFreeze()
    {
        if (_freezing)
        {
            FrozenAt = _vm.Time.GetUtcNow();
        }
    }

    // Under _sync, before a run's thread starts: a token no freeze has cancelled.
    private void RenewRunToken()
    {
        if (_run is { IsCancellationRequested: false })
        {
            return;
        }

        _run?.Dispose();
        _run = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token);
    }

    public VcpuHandoffState Export()
    {
        lock (_sync)
        {
            return new VcpuHandoffState(Index, _state, _reason, _programLoaded, [.. _exitCounts], _lastExit, _currentFaultId);
        }
    }

    /// <summary>Takes the state a vCPU had in the process that handed it off; nothing is journaled (it was, there).</summary>
    public void Import(VcpuHandoffState state)
    {
        lock (_sync)
        {
            _state = state.State;
            _reason = state.Reason;
            _programLoaded = state.ProgramLoaded;
            for (var i = 0; i < _exitCounts.Length && i < state.ExitCounts.Count; i++)
            {
                _exitCounts[i] = state.ExitCounts[i];
            }

            _lastExit = state.LastExit;
            _currentFaultId = state.CurrentFaultId;
        }
    }

    /// <summary>An adopted WAITING vCPU takes the fault it waits on from its VM's adopted pending faults.</summary>
    public void AttachAdoptedFault()
    {
        lock (_sync)
        {
            _waitingOn = _state == VcpuState.Waiting ? _vm.Faults.Pending(_currentFaultId) : null;
        }
    }

    // The thread of a thawed vCPU: a WAITING one waits for its fault again (what is left of its deadline), then
    // goes on as the loop would have.
    private void RunThawed(PendingFault? fault)
    {
        try
        {
            var again = true;
            try
            {
                if (fault is not null)
                {
                    var action = _vm.Faults.AwaitAgain(fault, WaitToken);
                    again = fault.IsConversionRequest ? AfterConversionRequest(fault, action) : AfterMemoryFault(fault, action);
                }
            }
            catch (Exception e) when (e is HypervisorException or CoreException)
            {
                CoreLog.VcpuRunError(_vm.Logger, _vm.Id, Index, e);
                again = Finish(VcpuState.Failed, $"exit handling failed: {e.Message}");
            }

            if (again)
            {
                Loop();
            }
        }
        finally
        {
            StampFreeze();
            LogEnd();
        }
    }
}
