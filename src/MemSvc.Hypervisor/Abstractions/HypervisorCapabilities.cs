namespace MemSvc.Hypervisor;

/// <summary>
/// What a hypervisor reported at start-up (KVM_CHECK_EXTENSION on /dev/kvm and on a default VM). Never
/// assumed: the kvm backend probes every field; the simulated backend states the kernel it models.
/// </summary>
public sealed record HypervisorCapabilities
{
    /// <summary>Backend name: "kvm" or "simulated".</summary>
    public required string Backend { get; init; }

    /// <summary>The kernel release (uname -r) for kvm, or the kernel the model follows for simulated.</summary>
    public required string KernelVersion { get; init; }

    /// <summary>KVM_GET_API_VERSION (12 on every kernel since 2.6.22).</summary>
    public required int ApiVersion { get; init; }

    /// <summary>VM types KVM_CREATE_VM accepts (KVM_CAP_VM_TYPES).</summary>
    public required IReadOnlyList<VmType> VmTypes { get; init; }

    /// <summary>KVM_CAP_USER_MEMORY2: KVM_SET_USER_MEMORY_REGION2 exists.</summary>
    public required bool UserMemory2 { get; init; }

    /// <summary>KVM_CAP_GUEST_MEMFD: KVM_CREATE_GUEST_MEMFD exists.</summary>
    public required bool GuestMemfd { get; init; }

    /// <summary>KVM_CAP_GUEST_MEMFD_FLAGS on a default VM.</summary>
    public required GuestMemfdFlags GuestMemfdFlags { get; init; }

    /// <summary>KVM_CAP_MEMORY_ATTRIBUTES on /dev/kvm: attributes some VM type supports (None: the ioctl is absent).</summary>
    public required MemoryAttributes MemoryAttributes { get; init; }

    /// <summary>KVM_CAP_MEMORY_FAULT_INFO: KVM_EXIT_MEMORY_FAULT is reported.</summary>
    public required bool MemoryFaultInfo { get; init; }

    /// <summary>KVM_CAP_EXIT_HYPERCALL: bit n set when hypercall n can exit to userspace (bit 12 = MAP_GPA_RANGE).</summary>
    public required ulong ExitHypercallMask { get; init; }

    /// <summary>KVM_CAP_NR_MEMSLOTS: memslots per address space.</summary>
    public required int MaxMemslots { get; init; }

    /// <summary>KVM_CAP_MAX_VCPUS.</summary>
    public required int MaxVcpus { get; init; }

    /// <summary>
    /// Guest-physical address bits a memslot may use: no slot may end past 2^MaxGpaBits. 52 with the shadow MMU (and in
    /// the model); the host's MAXPHYADDR, often 48, where NPT or EPT is on. Not a KVM_CAP: the kvm backend derives it.
    /// </summary>
    public int MaxGpaBits { get; init; } = 52;

    /// <summary>Every capability probed, by its KVM_CAP_* name, with the raw value KVM_CHECK_EXTENSION gave.</summary>
    public IReadOnlyDictionary<string, long> Raw { get; init; } = new Dictionary<string, long>();
}
