namespace MemSvc.Hypervisor.Tests.Capabilities;

/// <summary>
/// What a test needs of the host beyond a hypervisor that opens. Real hosts differ (kvm/field-reports): a test
/// declares its needs, and the host's own probe, read at run time, decides whether it runs or is skipped naming
/// what is missing. Never one host's constants.
/// </summary>
[Flags]
public enum HostNeed
{
    None = 0,

    /// <summary>KVM_CAP_GUEST_MEMFD: KVM_CREATE_GUEST_MEMFD exists.</summary>
    GuestMemfd = 1 << 0,

    /// <summary>GUEST_MEMFD_FLAG_MMAP in a default VM's KVM_CAP_GUEST_MEMFD_FLAGS (implies <see cref="GuestMemfd"/>).</summary>
    GuestMemfdMmap = GuestMemfd | (1 << 1),

    /// <summary>GUEST_MEMFD_FLAG_MMAP and GUEST_MEMFD_FLAG_INIT_SHARED: a guest_memfd the host can read and write.</summary>
    GuestMemfdMmapShared = GuestMemfdMmap | (1 << 2),

    /// <summary>KVM_SET_MEMORY_ATTRIBUTES exists for a default VM (it may still refuse PRIVATE there).</summary>
    MemoryAttributesIoctl = 1 << 3,

    /// <summary>Bit 12 (KVM_HC_MAP_GPA_RANGE) of KVM_CAP_EXIT_HYPERCALL: the hypercall can exit to userspace.</summary>
    MapGpaRangeExit = 1 << 4,

    /// <summary>KVM_CAP_MEMORY_FAULT_INFO: KVM_RUN reports KVM_EXIT_MEMORY_FAULT with its gpa, size and flags.</summary>
    MemoryFaultInfo = 1 << 5,
}
