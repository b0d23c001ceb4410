namespace MemSvc.Hypervisor.Kvm;

/// <summary>KVM_EXIT_* values of kvm_run.exit_reason that the run loop tells apart.</summary>
internal static class KvmExitReason
{
    public const uint Unknown = 0;
    public const uint Io = 2;
    public const uint Hypercall = 3;
    public const uint Hlt = 5;
    public const uint Mmio = 6;
    public const uint Shutdown = 8;
    public const uint FailEntry = 9;
    public const uint Intr = 10;
    public const uint InternalError = 17;
    public const uint MemoryFault = 39;

    public const byte IoDirectionOut = 1;

    /// <summary>KVM_HC_MAP_GPA_RANGE, the only hypercall KVM_CAP_EXIT_HYPERCALL can forward.</summary>
    public const ulong HcMapGpaRange = 12;
}
