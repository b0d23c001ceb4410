namespace MemSvc.Core.Faults;

/// <summary>How a fault or conversion request is resolved.</summary>
public enum FaultAction
{
    Unspecified = 0,

    /// <summary>Convert the faulting page (to what the access wanted) or the requested range, then resume.</summary>
    Convert = 1,

    /// <summary>Resume without converting: the access is retried as is. Memory faults only.</summary>
    Retry = 2,

    /// <summary>
    /// The vCPU fails. For a conversion request the guest gets a non-zero hypercall result and aborts, which fails
    /// the vCPU.
    /// </summary>
    Fail = 3,
}
