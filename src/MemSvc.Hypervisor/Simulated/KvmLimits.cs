namespace MemSvc.Hypervisor.Simulated;

/// <summary>
/// The kernel constants the model checks against that are the same on every host profile (x86-64, as measured in
/// kvm/probe/results.txt); those that differ are <see cref="SimulatedHostProfile"/>'s.
/// </summary>
internal static class KvmLimits
{
    public const ulong PageSize = 4096;
    public const ulong PageMask = PageSize - 1;
    public const int PageShift = 12;

    /// <summary>KVM_MEM_MAX_NR_PAGES: pages per memslot.</summary>
    public const ulong MaxPagesPerSlot = (1UL << 31) - 1;

    /// <summary>TASK_SIZE_MAX on x86-64 with 4-level paging: access_ok() rejects user ranges ending above it.</summary>
    public const ulong TaskSizeMax = 0x00007ffffffff000;

    /// <summary>KVM_HC_MAP_GPA_RANGE.</summary>
    public const int HcMapGpaRange = 12;

    /// <summary>The KVM_CAP_EXIT_HYPERCALL bits KVM_ENABLE_CAP accepts (KVM_EXIT_HYPERCALL_VALID_MASK).</summary>
    public const ulong ExitHypercallValidMask = 1UL << HcMapGpaRange;

    /// <summary>-KVM_ENOSYS and -KVM_EINVAL as the guest sees them in RAX.</summary>
    public const ulong KvmEnosys = unchecked((ulong)-1000L);

    public const ulong KvmEinval = unchecked((ulong)-22L);

    public static bool IsPageAligned(ulong value) => (value & PageMask) == 0;

    public static ulong PageOf(ulong gpa) => gpa & ~PageMask;
}
