using MemSvc.Contracts.V1;

namespace MemSvc.Client.Orchestration;

/// <summary>A fault a vCPU waits on, as a handler sees it.</summary>
/// <param name="Event">The whole event (sequence, VM and its uid, time).</param>
/// <param name="FaultId">The fault to resolve.</param>
/// <param name="Vcpu">The waiting vCPU's index.</param>
/// <param name="Gpa">First guest-physical address, in bytes.</param>
/// <param name="Size">Length in bytes.</param>
/// <param name="WantsPrivate">The access was private, or the guest asked for private.</param>
public sealed record FaultContext(Event Event, ulong FaultId, uint Vcpu, ulong Gpa, ulong Size, bool WantsPrivate)
{
    /// <summary>True for a guest's conversion request (KVM_HC_MAP_GPA_RANGE), false for a memory fault.</summary>
    public bool IsConversionRequest => Event.PayloadCase == Event.PayloadOneofCase.ConversionRequested;

    /// <summary>The VM, <c>vms/{vm}</c>.</summary>
    public string Vm => Event.Vm;

    /// <summary>The VM's incarnation: the fault belongs to it, not to a later VM of the same name.</summary>
    public string VmUid => Event.VmUid;

    /// <summary>When the VM's fallback applies unless the fault is resolved first (UTC).</summary>
    public DateTimeOffset? Deadline => (Event.MemoryFault?.Deadline ?? Event.ConversionRequested?.Deadline)?.ToDateTimeOffset();

    /// <summary>A fault that waits for a resolution (one with a deadline: not a fault the AUTO policy resolved itself).</summary>
    internal static FaultContext? Pending(Event e) => e.PayloadCase switch
    {
        Event.PayloadOneofCase.MemoryFault when e.MemoryFault.Deadline is not null => new FaultContext(
            e, e.MemoryFault.FaultId, e.MemoryFault.Vcpu, e.MemoryFault.Gpa, e.MemoryFault.Size, e.MemoryFault.Private),
        Event.PayloadOneofCase.ConversionRequested when e.ConversionRequested.Deadline is not null => new FaultContext(
            e, e.ConversionRequested.FaultId, e.ConversionRequested.Vcpu, e.ConversionRequested.Gpa, e.ConversionRequested.Size,
            e.ConversionRequested.ToPrivate),
        _ => null,
    };
}

/// <summary>How a fault this orchestrator handed to its handler ended: once per fault.</summary>
public enum FaultOutcomeKind
{
    /// <summary>The handler decided and ResolveFault applied it.</summary>
    Resolved = 1,

    /// <summary>Somebody else resolved it first (another orchestrator, an earlier attempt whose answer was lost).</summary>
    ResolvedElsewhere = 2,

    /// <summary>Its deadline passed first: the VM's fallback was applied.</summary>
    TimedOut = 3,

    /// <summary>Its VM was deleted (or replaced by another VM of its name) first.</summary>
    VmGone = 4,

    /// <summary>The handler threw: the fault is left to the VM's fallback at its deadline. Logged and counted.</summary>
    HandlerFailed = 5,

    /// <summary>ResolveFault failed otherwise (refused, or the server stayed unreachable). Logged and counted.</summary>
    ResolveFailed = 6,
}

/// <summary>How a fault ended, for progress reporting.</summary>
/// <param name="Fault">The fault.</param>
/// <param name="Kind">How it ended.</param>
/// <param name="Action">The action the handler chose; null when it threw.</param>
/// <param name="Response">The server's answer when this orchestrator resolved it; null otherwise.</param>
/// <param name="Error">What the handler threw, or why ResolveFault failed, for <see cref="FaultOutcomeKind.HandlerFailed"/> and <see cref="FaultOutcomeKind.ResolveFailed"/>.</param>
public sealed record FaultOutcome(FaultContext Fault, FaultOutcomeKind Kind, FaultAction? Action, ResolveFaultResponse? Response, Exception? Error = null);
