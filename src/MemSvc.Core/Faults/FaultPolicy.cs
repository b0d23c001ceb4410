namespace MemSvc.Core.Faults;

/// <summary>Who decides what to do with a vCPU's memory fault or conversion request.</summary>
public enum FaultPolicy
{
    /// <summary>Not set: CreateVm takes <see cref="Auto"/>.</summary>
    Unspecified = 0,

    /// <summary>MemSvc converts on its own, as QEMU does, and resumes the vCPU; events still stream.</summary>
    Auto = 1,

    /// <summary>The vCPU waits (WAITING) until ResolveFault or the VM's resolution timeout, whose fallback then applies.</summary>
    Orchestrator = 2,
}
