namespace MemSvc.Core.Vcpus;

/// <summary>
/// GetVcpu's answer. <paramref name="CurrentFaultId"/> is the fault a WAITING vCPU waits on (0 otherwise);
/// <paramref name="ExitCounts"/> counts KVM_RUN returns by kind since the VM was created.
/// </summary>
public sealed record VcpuInfo(
    string VmId,
    int Index,
    VcpuState State,
    string Reason,
    bool ProgramLoaded,
    IReadOnlyDictionary<VcpuExitKind, long> ExitCounts,
    VcpuExitKind LastExit,
    ulong CurrentFaultId);
