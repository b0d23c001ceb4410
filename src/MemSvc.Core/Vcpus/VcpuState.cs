namespace MemSvc.Core.Vcpus;

/// <summary>Where a vCPU is in its life.</summary>
public enum VcpuState
{
    Unspecified = 0,

    /// <summary>No guest program loaded.</summary>
    Idle = 1,

    /// <summary>A program is loaded; StartVcpu runs it.</summary>
    Ready = 2,

    /// <summary>Its run loop is in KVM_RUN or handling an exit.</summary>
    Running = 3,

    /// <summary>Stopped on a fault or conversion request until ResolveFault (ORCHESTRATOR policy).</summary>
    Waiting = 4,

    /// <summary>Stopped by PauseVcpu; StartVcpu resumes it where it stopped.</summary>
    Paused = 5,

    /// <summary>The program halted.</summary>
    Halted = 6,

    /// <summary>KVM_EXIT_SHUTDOWN (triple fault).</summary>
    Shutdown = 7,

    /// <summary>The guest aborted, KVM failed, or a fault was failed; the reason says which.</summary>
    Failed = 8,
}
