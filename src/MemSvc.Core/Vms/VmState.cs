namespace MemSvc.Core.Vms;

/// <summary>A VM's state, derived from its vCPUs when asked.</summary>
public enum VmState
{
    Unspecified = 0,

    /// <summary>No vCPU is running or waiting.</summary>
    Ready = 1,

    /// <summary>At least one vCPU is running or waiting on a fault.</summary>
    Running = 2,
}
