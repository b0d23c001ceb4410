namespace MemSvc.Hypervisor;

/// <summary>What one VM supports (KVM_CHECK_EXTENSION on the VM fd): it depends on the VM type.</summary>
public sealed record VmCapabilities
{
    /// <summary>KVM_CAP_GUEST_MEMFD_FLAGS on this VM: MMAP|INIT_SHARED on a default VM, MMAP on private VM types.</summary>
    public required GuestMemfdFlags GuestMemfdFlags { get; init; }

    /// <summary>KVM_CAP_MEMORY_ATTRIBUTES on this VM: PRIVATE on VM types with private memory, else None.</summary>
    public required MemoryAttributes MemoryAttributes { get; init; }

    /// <summary>
    /// Whether KVM_SET_MEMORY_ATTRIBUTES exists at all for this VM. False on kernels without
    /// CONFIG_KVM_GENERIC_MEMORY_ATTRIBUTES (as on these machines): the ioctl gives ENOTTY.
    /// </summary>
    public required bool MemoryAttributesIoctl { get; init; }

    /// <summary>KVM_CAP_EXIT_HYPERCALL mask that KVM_ENABLE_CAP accepts.</summary>
    public required ulong ExitHypercallMask { get; init; }

    /// <summary>Guest-physical ranges the backend uses itself (the kvm backend's boot code and page tables); memslots must avoid them.</summary>
    public IReadOnlyList<GpaRange> ReservedRanges { get; init; } = [];
}
