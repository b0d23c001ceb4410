using MemSvc.Core.Errors;
using MemSvc.Core.Events;
using MemSvc.Core.Logging;
using MemSvc.Core.Telemetry;
using MemSvc.Core.Vms;
using MemSvc.Hypervisor;

namespace MemSvc.Core.Vcpus;

/// <summary>
/// One vCPU: its state machine (IDLE → READY → RUNNING ⇄ WAITING, → PAUSED, HALTED, SHUTDOWN, FAILED) and its run
/// loop, on a dedicated thread per run (KVM_RUN blocks). Every state change is journaled under the same lock that
/// makes it, so the journal's order is the state machine's order.
/// </summary>
internal sealed partial class VcpuRunner : IDisposable
{
    private readonly ManagedVm _vm;
    private readonly IVcpu _vcpu;
    private readonly Lock _sync = new();
    private readonly long[] _exitCounts = new long[VcpuExitKinds.Count];
    private readonly CancellationTokenSource _stop = new();
    private VcpuState _state = VcpuState.Idle;
    private string _reason = "created";
    private bool _programLoaded;
    private bool _pauseRequested;
    private bool _stopping;
    private Thread? _thread;
    private VcpuExitKind _lastExit;
    private ulong _currentFaultId;

    public VcpuRunner(ManagedVm vm, IVcpu vcpu)
    {
        _vm = vm;
        _vcpu = vcpu;
    }

    public int Index => _vcpu.Index;

    public VcpuState State
    {
        get
        {
            lock (_sync)
            {
                return _state;
            }
        }
    }

    public VcpuInfo Info()
    {
        lock (_sync)
        {
            var counts = new Dictionary<VcpuExitKind, long>();
            for (var i = 1; i < _exitCounts.Length; i++)
            {
                var count = Interlocked.Read(ref _exitCounts[i]);
                if (count > 0)
                {
                    counts[(VcpuExitKind)i] = count;
                }
            }

            return new VcpuInfo(_vm.Id, Index, _state, _reason, _programLoaded, counts, _lastExit, _currentFaultId);
        }
    }

    public void Load(GuestProgram program)
    {
        ArgumentNullException.ThrowIfNull(program);
        if (program.Validate() is { } problem)
        {
            throw CoreException.InvalidArgument(ErrorReasons.InvalidGuestProgram, "program", problem);
        }

        lock (_sync)
        {
            ThrowIfBusy();
            JoinFinishedThread();
            using (CoreActivities.Start("memsvc.core.load_program", _vm.Id)?.SetTag("vcpu", Index))
            {
                _vcpu.LoadProgram(program);
            }

            _programLoaded = true;
            SetState(VcpuState.Ready, $"program of {program.Steps.Count} steps loaded");
        }
    }

    public void Start()
    {
        lock (_sync)
        {
            switch (_state)
            {
                case VcpuState.Idle:
                    throw CoreException.FailedPrecondition(ErrorReasons.NoProgramLoaded, $"vCPU {Index} has no guest program", "index");
                case VcpuState.Running or VcpuState.Waiting:
                    ThrowIfBusy();
                    break;
                case VcpuState.Halted or VcpuState.Shutdown or VcpuState.Failed:
                    throw CoreException.FailedPrecondition(ErrorReasons.VcpuFinished, $"vCPU {Index} is {_state}; load a program to run it again", "index");
            }

            JoinFinishedThread();
            var resuming = _state == VcpuState.Paused;
            _pauseRequested = false;
            SetState(VcpuState.Running, resuming ? "resumed" : "started");
            CoreLog.VcpuStarted(_vm.Logger, _vm.Id, Index, resuming);
            RenewRunToken();
            _thread = new Thread(Run) { IsBackground = true, Name = $"vcpu {_vm.Id}/{Index}" };
            _thread.Start();
        }
    }

    /// <summary>Asks a running or waiting vCPU to stop; it becomes PAUSED when its loop sees the exit.</summary>
    public void Pause()
    {
        lock (_sync)
        {
            if (_state is VcpuState.Running or VcpuState.Waiting)
            {
                _pauseRequested = true;
                _vcpu.RequestExit();
            }
            else if (_state != VcpuState.Paused)
            {
                throw CoreException.FailedPrecondition(ErrorReasons.VcpuNotRunning, $"vCPU {Index} is {_state}, not running", "index");
            }
        }
    }

    /// <summary>Stops the run loop for good (the VM is going away); false when its thread did not leave in time.</summary>
    public bool Stop(TimeSpan timeout)
    {
        Thread? thread;
        lock (_sync)
        {
            _stopping = true;
            thread = _thread;
        }

        _stop.Cancel();
        _vcpu.RequestExit();
        return thread is null || thread.Join(timeout);
    }

    public void Dispose()
    {
        _run?.Dispose();
        _stop.Dispose();
        _vcpu.Dispose();
    }

    // The thread's body: the loop, then one line saying how it ended.
    private void Run()
    {
        try
        {
            Loop();
        }
        finally
        {
            StampFreeze();
            LogEnd();
        }
    }

    // Reads the state without _sync: this thread made the last change, and Load and Start join this thread while
    // holding _sync before they change it, so taking _sync here could deadlock with them.
    private void LogEnd()
    {
        if (_state == VcpuState.Failed)
        {
            CoreLog.VcpuFailed(_vm.Logger, _vm.Id, Index, _reason, _lastExit);
        }
        else
        {
            CoreLog.VcpuStopped(_vm.Logger, _vm.Id, Index, _state, Volatile.Read(ref _stopping) ? "stopped with its VM" : _reason, _lastExit);
        }
    }

    private void ThrowIfBusy()
    {
        if (_state is VcpuState.Running or VcpuState.Waiting)
        {
            throw new CoreException(ErrorKind.FailedPrecondition, ErrorReasons.VcpuBusy, $"vCPU {Index} is {_state}", "index", CoreErrors.Meta("state", _state.ToString()));
        }
    }

    // A previous run's thread has set its final state and is returning; wait for it so that at most one thread
    // ever calls KVM_RUN on this vCPU.
    private void JoinFinishedThread()
    {
        if (_thread is not null && _thread != Thread.CurrentThread)
        {
            _thread.Join();
        }

        _thread = null;
    }

    // Under _sync.
    private void SetState(VcpuState state, string reason)
    {
        _state = state;
        _reason = reason;
        _vm.Journal.Append(new EventPayload.VcpuStateChanged(Index, state, reason));
    }

    private void Count(VcpuExitKind kind)
    {
        Interlocked.Increment(ref _exitCounts[(int)kind]);
        _lastExit = kind;
        _vm.Metrics.VcpuExit(_vm.Id, _vm.Uid, VcpuExitKinds.MetricName(kind));
    }
}
