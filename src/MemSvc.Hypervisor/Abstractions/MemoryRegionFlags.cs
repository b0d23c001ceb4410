namespace MemSvc.Hypervisor;

/// <summary>KVM_MEM_* flags of KVM_SET_USER_MEMORY_REGION2.</summary>
[Flags]
public enum MemoryRegionFlags : uint
{
    None = 0,
    LogDirtyPages = 1U << 0,
    ReadOnly = 1U << 1,

    /// <summary>KVM_MEM_GUEST_MEMFD: private accesses are served from a guest_memfd range.</summary>
    GuestMemfd = 1U << 2,
}
