namespace MemSvc.Core.Faults;

/// <summary>ResolveFault's answer: what was applied, and how long after the fault.</summary>
public sealed record FaultResolution(string VmId, ulong FaultId, FaultAction Action, bool ByFallback, TimeSpan Latency);
