namespace MemSvc.Hypervisor.Kvm;

/// <summary>KVM_CAP_* numbers (include/uapi/linux/kvm.h, v6.18) that the backend probes, with the kernel's names.</summary>
internal static class KvmCaps
{
    public const int UserMemory = 3;
    public const int NrMemslots = 10;
    public const int SyncMmu = 16;
    public const int InternalErrorData = 40;
    public const int MaxVcpus = 66;
    public const int ReadonlyMem = 81;
    public const int EnableCapVm = 98;
    public const int CheckExtensionVm = 105;
    public const int X86Smm = 117;
    public const int MultiAddressSpace = 118;
    public const int ImmediateExit = 136;
    public const int ExitHypercall = 201;
    public const int VmGpaBits = 207;
    public const int UserMemory2 = 231;
    public const int MemoryFaultInfo = 232;
    public const int MemoryAttributes = 233;
    public const int GuestMemfd = 234;
    public const int VmTypes = 235;
    public const int PreFaultMemory = 236;
    public const int GuestMemfdFlags = 244;

    /// <summary>Every capability probed at start-up, in the order they are reported.</summary>
    public static readonly IReadOnlyList<(string Name, int Number)> Probed =
    [
        ("KVM_CAP_USER_MEMORY", UserMemory),
        ("KVM_CAP_NR_MEMSLOTS", NrMemslots),
        ("KVM_CAP_SYNC_MMU", SyncMmu),
        ("KVM_CAP_INTERNAL_ERROR_DATA", InternalErrorData),
        ("KVM_CAP_MAX_VCPUS", MaxVcpus),
        ("KVM_CAP_READONLY_MEM", ReadonlyMem),
        ("KVM_CAP_ENABLE_CAP_VM", EnableCapVm),
        ("KVM_CAP_CHECK_EXTENSION_VM", CheckExtensionVm),
        ("KVM_CAP_X86_SMM", X86Smm),
        ("KVM_CAP_MULTI_ADDRESS_SPACE", MultiAddressSpace),
        ("KVM_CAP_IMMEDIATE_EXIT", ImmediateExit),
        ("KVM_CAP_EXIT_HYPERCALL", ExitHypercall),
        ("KVM_CAP_VM_GPA_BITS", VmGpaBits),
        ("KVM_CAP_USER_MEMORY2", UserMemory2),
        ("KVM_CAP_MEMORY_FAULT_INFO", MemoryFaultInfo),
        ("KVM_CAP_MEMORY_ATTRIBUTES", MemoryAttributes),
        ("KVM_CAP_GUEST_MEMFD", GuestMemfd),
        ("KVM_CAP_VM_TYPES", VmTypes),
        ("KVM_CAP_PRE_FAULT_MEMORY", PreFaultMemory),
        ("KVM_CAP_GUEST_MEMFD_FLAGS", GuestMemfdFlags),
    ];
}
