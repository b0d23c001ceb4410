namespace MemSvc.Client.Errors;

/// <summary>
/// The answers of ResolveFault for a fault that is no longer pending. Each means the fault is over: retrying
/// would change nothing, so a resolver counts it done (as <see cref="Orchestration.FaultOrchestrator"/> does).
/// </summary>
public static class FaultErrors
{
    /// <summary>An earlier ResolveFault resolved it (somebody else's, or an attempt of this caller whose answer was lost).</summary>
    public const string AlreadyResolved = "FAULT_ALREADY_RESOLVED";

    /// <summary>Its deadline passed and the VM's fallback was applied (metadata <c>action</c>).</summary>
    public const string TimedOut = "FAULT_TIMED_OUT";

    /// <summary>Its VM was deleted.</summary>
    public const string VmNotFound = "VM_NOT_FOUND";

    /// <summary>Its VM died with an earlier daemon process (a crash, a kill, a stop without handoff).</summary>
    public const string VmLost = "VM_LOST";

    /// <summary>True when <paramref name="error"/> says the fault is over: resolved, timed out, or its VM gone (deleted, replaced or lost).</summary>
    public static bool IsFaultOver(MemSvcException error)
    {
        ArgumentNullException.ThrowIfNull(error);
        return error is VmReplacedException || error.Reason is AlreadyResolved or TimedOut or VmNotFound or VmLost;
    }
}
