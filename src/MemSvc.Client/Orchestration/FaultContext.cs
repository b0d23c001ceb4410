using MemSvc.Contracts.V1;

namespace MemSvc.Client.Orchestration;

/// <summary>A fault a vCPU waits on, as a handler sees it.</summary>
/// <param name="Event">The whole event (sequence, VM, time).</param>
/// <param name="FaultId">The fault to resolve.</param>
/// <param name="Vcpu">The waiting vCPU's index.</param>
/// <param name="Gpa">First guest-physical address, in bytes.</param>
/// <param name="Size">Length in bytes.</param>
/// <param name="WantsPrivate">The access was private, or the guest asked for private.</param>
public sealed record FaultContext(Event Event, ulong FaultId, uint Vcpu, ulong Gpa, ulong Size, bool WantsPrivate)
{
    /// <summary>True for a guest's conversion request (KVM_HC_MAP_GPA_RANGE), false for a memory fault.</summary>
    public bool IsConversionRequest => Event.PayloadCase == Event.PayloadOneofCase.ConversionRequested;

    internal static FaultContext? From(Event e) => e.PayloadCase switch
    {
        Event.PayloadOneofCase.MemoryFault => new FaultContext(
            e, e.MemoryFault.FaultId, e.MemoryFault.Vcpu, e.MemoryFault.Gpa, e.MemoryFault.Size, e.MemoryFault.Private),
        Event.PayloadOneofCase.ConversionRequested => new FaultContext(
            e, e.ConversionRequested.FaultId, e.ConversionRequested.Vcpu, e.ConversionRequested.Gpa, e.ConversionRequested.Size,
            e.ConversionRequested.ToPrivate),
        _ => null,
    };
}

/// <summary>How a fault ended, for progress reporting.</summary>
/// <param name="Fault">The fault.</param>
/// <param name="Action">The action the handler chose.</param>
/// <param name="Response">The server's answer; null when somebody else (another orchestrator, the timeout fallback) resolved it first.</param>
public sealed record FaultOutcome(FaultContext Fault, FaultAction Action, ResolveFaultResponse? Response);
