namespace MemSvc.Hypervisor.Simulated;

/// <summary>The kernel constants the model checks against (v6.18 x86-64, as measured in kvm/probe/results.txt).</summary>
internal static class KvmLimits
{
    public const ulong PageSize = 4096;
    public const ulong PageMask = PageSize - 1;
    public const int PageShift = 12;

    /// <summary>KVM_USER_MEM_SLOTS (KVM_CAP_NR_MEMSLOTS).</summary>
    public const int MaxMemslots = 32764;

    /// <summary>KVM_MAX_VCPUS (KVM_CAP_MAX_VCPUS) and KVM_MAX_VCPU_IDS.</summary>
    public const int MaxVcpus = 1024;

    /// <summary>KVM_MEM_MAX_NR_PAGES: pages per memslot.</summary>
    public const ulong MaxPagesPerSlot = (1UL << 31) - 1;

    /// <summary>
    /// One past the highest gpa a memslot may cover: kvm_mmu_max_gfn() with the shadow MMU's 52-bit physical
    /// address width (results.txt: a slot ending exactly at 2^52 binds, one crossing it does not).
    /// </summary>
    public const ulong GpaLimit = 1UL << 52;

    /// <summary>TASK_SIZE_MAX on x86-64 with 4-level paging: access_ok() rejects user ranges ending above it.</summary>
    public const ulong TaskSizeMax = 0x00007ffffffff000;

    /// <summary>KVM_HC_MAP_GPA_RANGE.</summary>
    public const int HcMapGpaRange = 12;

    /// <summary>The KVM_CAP_EXIT_HYPERCALL bits KVM_ENABLE_CAP accepts (KVM_EXIT_HYPERCALL_VALID_MASK).</summary>
    public const ulong ExitHypercallValidMask = 1UL << HcMapGpaRange;

    /// <summary>-KVM_ENOSYS and -KVM_EINVAL as the guest sees them in RAX.</summary>
    public const ulong KvmEnosys = unchecked((ulong)-1000L);

    public const ulong KvmEinval = unchecked((ulong)-22L);

    /// <summary>
    /// MS-19: binding a guest_memfd range that overlaps another slot's binding of the same file. This machine's
    /// kernel (and v6.8, mainline as read) answer EINVAL; kvm-x86/next answers EEXIST. The one place to change.
    /// </summary>
    public const Errno GuestMemfdBindingOverlap = Errno.EINVAL;

    public static bool IsPageAligned(ulong value) => (value & PageMask) == 0;

    public static ulong PageOf(ulong gpa) => gpa & ~PageMask;
}
