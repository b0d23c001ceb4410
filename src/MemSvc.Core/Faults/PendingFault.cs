using System.Diagnostics;
using MemSvc.Core.Events;

namespace MemSvc.Core.Faults;

/// <summary>
/// A memory fault or conversion request a vCPU waits on. Resolving it happens once, under <see cref="Sync"/>,
/// whoever comes first: ResolveFault or the vCPU's own timeout fallback.
/// </summary>
internal sealed class PendingFault(ulong id, int vcpu, ulong gpa, ulong size, bool toPrivate, bool isConversionRequest)
{
    // No spinning before the vCPU thread blocks: the resolution comes from a remote orchestrator, hundreds of µs
    // away at best, and a spinning vCPU thread takes a core from the very gRPC threads that bring it (Task.Wait's
    // spin was 8% of the process's CPU on the fault path). Never disposed: no wait handle is ever asked of it.
    private readonly ManualResetEventSlim _done = new(initialState: false, spinCount: 0);

    public ulong Id { get; } = id;

    public int Vcpu { get; } = vcpu;

    public ulong Gpa { get; } = gpa;

    public ulong Size { get; } = size;

    /// <summary>The direction a CONVERT applies: what the access wanted, or what the guest asked for.</summary>
    public bool ToPrivate { get; } = toPrivate;

    public bool IsConversionRequest { get; } = isConversionRequest;

    /// <summary>When it was raised (a Stopwatch timestamp); a fault adopted in a handoff keeps its age.</summary>
    public long RaisedAt { get; init; } = Stopwatch.GetTimestamp();

    public Lock Sync { get; } = new();

    /// <summary>Set once, under <see cref="Sync"/>.</summary>
    public FaultAction? Action { get; private set; }

    /// <summary>Why a CONVERT could not be applied, when the fallback or AUTO turned it into FAIL.</summary>
    public string? FailureReason { get; private set; }

    /// <summary>
    /// The journal event that announced the fault (ORCHESTRATOR policy), set under the coordinator's list lock
    /// together with the registration, so that a pending-fault listing always finds it; null before, or when the
    /// journal had completed.
    /// </summary>
    public VmEvent? Announcement { get; set; }

    public void MarkResolved(FaultAction action, string? failureReason)
    {
        Action = action;
        FailureReason = failureReason;
        _done.Set();
    }

    /// <summary>Waits for a resolution; false on timeout. Throws OperationCanceledException when the VM stops.</summary>
    public bool Wait(TimeSpan timeout, CancellationToken stop) => _done.Wait(timeout, stop);
}
