namespace MemSvc.Core.Events;

/// <summary>The kinds of journal event, for filters.</summary>
public enum EventKind
{
    Unspecified = 0,
    MemoryFault = 1,
    ConversionRequested = 2,
    ConversionApplied = 3,
    FaultResolved = 4,
    VcpuStateChanged = 5,
    GuestReport = 6,

    /// <summary>The VM died with an earlier daemon process: the last event of its journal.</summary>
    VmLost = 7,
}
