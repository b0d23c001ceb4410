using System.Collections.Frozen;
using System.Diagnostics.CodeAnalysis;

namespace MemSvc.Hypervisor.Simulated;

/// <summary>
/// Which host the simulated backend is: the VM types KVM_CREATE_VM accepts, what KVM_CHECK_EXTENSION answers, and
/// the errno of the ioctls whose answer differs from kernel to kernel. <see cref="Default"/> is the model as it
/// always was; the other profiles are hosts that were measured, so that code tested against a profile meets the
/// same answers on such a host. The model decides by these fields, never by <see cref="Name"/>. Immutable; a
/// variant is a <c>with</c> expression (give it a name of its own).
/// </summary>
public sealed record SimulatedHostProfile
{
    // Declared before the profiles that use them: static initializers run in textual order.

    // The model's KVM_CHECK_EXTENSION answers beyond those derived from the fields below, as they always were.
    private static readonly FrozenDictionary<string, long> DefaultOtherCapabilities = new Dictionary<string, long>
    {
        ["KVM_CAP_USER_MEMORY"] = 1,
        ["KVM_CAP_SYNC_MMU"] = 1,
        ["KVM_CAP_READONLY_MEM"] = 1,
        ["KVM_CAP_ENABLE_CAP_VM"] = 1,
        ["KVM_CAP_CHECK_EXTENSION_VM"] = 1,
        ["KVM_CAP_IMMEDIATE_EXIT"] = 1,
    }.ToFrozenDictionary(StringComparer.Ordinal);

    // kvm/probe/results.txt (kvm_pvm 6.18.44), the /dev/kvm column, for every capability not derived from a field
    // below. The VM column is the same for all of them.
    private static readonly FrozenDictionary<string, long> Pvm618OtherCapabilities = new Dictionary<string, long>
    {
        ["KVM_CAP_USER_MEMORY"] = 1,
        ["KVM_CAP_SYNC_MMU"] = 1,
        ["KVM_CAP_INTERNAL_ERROR_DATA"] = 1,
        ["KVM_CAP_READONLY_MEM"] = 1,
        ["KVM_CAP_ENABLE_CAP_VM"] = 1,
        ["KVM_CAP_CHECK_EXTENSION_VM"] = 1,
        ["KVM_CAP_IMMEDIATE_EXIT"] = 1,
        ["KVM_CAP_X86_DISABLE_EXITS"] = 14,
        ["KVM_CAP_X86_USER_SPACE_MSR"] = 1,
        ["KVM_CAP_DIRTY_LOG_RING"] = 1048576,
        ["KVM_CAP_EXIT_ON_EMULATION_FAILURE"] = 1,
        ["KVM_CAP_VM_GPA_BITS"] = 0,
        ["KVM_CAP_X86_GUEST_MODE"] = 1,
    }.ToFrozenDictionary(StringComparer.Ordinal);

    // kvm/nested/results-nested.txt: the same as 6.18 but X86_DISABLE_EXITS, which is 15 there.
    private static readonly FrozenDictionary<string, long> Debian72OtherCapabilities =
        new Dictionary<string, long>(Pvm618OtherCapabilities, StringComparer.Ordinal) { ["KVM_CAP_X86_DISABLE_EXITS"] = 15 }
            .ToFrozenDictionary(StringComparer.Ordinal);

    /// <summary>Looked up by <see cref="ByName"/>: the profile's name in configuration (MemSvc:Simulated:HostProfile).</summary>
    public required string Name { get; init; }

    /// <summary>The kernel the profile stands for, in words; the backend's KernelVersion is "simulated (Name: Kernel)".</summary>
    public required string Kernel { get; init; }

    /// <summary>VM types KVM_CREATE_VM accepts (KVM_CAP_VM_TYPES); any other type is EINVAL.</summary>
    public required IReadOnlyList<VmType> VmTypes { get; init; }

    /// <summary>
    /// KVM_CAP_GUEST_MEMFD: the kernel has CONFIG_KVM_GUEST_MEMFD. Without it KVM_CREATE_GUEST_MEMFD is ENOTTY (an
    /// unknown ioctl) and KVM_MEM_GUEST_MEMFD is not a valid memslot flag (check_memory_region_flags: EINVAL).
    /// </summary>
    public required bool GuestMemfd { get; init; }

    /// <summary>
    /// KVM_CAP_GUEST_MEMFD_FLAGS on /dev/kvm: the flags a VM without private memory may pass to
    /// KVM_CREATE_GUEST_MEMFD. VM types with private memory never get INIT_SHARED (GM-4).
    /// </summary>
    public required GuestMemfdFlags GuestMemfdFlags { get; init; }

    /// <summary>
    /// KVM_SET_MEMORY_ATTRIBUTES exists on VMs without private memory too (CONFIG_KVM_GENERIC_MEMORY_ATTRIBUTES):
    /// there it takes attributes 0 and refuses PRIVATE with EINVAL. False: ENOTTY on such VMs. VM types with
    /// private memory have the ioctl either way, as they cannot work without it.
    /// </summary>
    public required bool MemoryAttributesIoctl { get; init; }

    /// <summary>
    /// MS-19: the errno of binding a guest_memfd range that another memslot already binds (the GPA ranges being
    /// disjoint): EINVAL up to 6.18, EEXIST in kvm-x86/next and 7.2.
    /// </summary>
    public required Errno OverlappingGmemErrno { get; init; }

    /// <summary>
    /// kvm_gmem_bind's `offset + size > i_size_read(inode)` is computed in loff_t (the kernel is built with
    /// -fno-strict-overflow): a range crossing 2^63 wraps negative and binds whatever the file's size. True on 6.18
    /// (measured on Debian's 6.18.15 in tests/kvm-host's nested guest); false on 7.2, which refuses such a range with
    /// EINVAL (measured on Debian's 7.2.13 there).
    /// </summary>
    public required bool GuestMemfdBindSumWraps { get; init; }

    /// <summary>KVM_CAP_MAX_VCPUS; the model also takes it as KVM_MAX_VCPU_IDS (KVM_CREATE_VCPU ids below it).</summary>
    public required int MaxVcpus { get; init; }

    /// <summary>KVM_CAP_NR_MEMSLOTS: memslot ids per address space (KVM_USER_MEM_SLOTS).</summary>
    public required int MaxMemslots { get; init; }

    /// <summary>
    /// Memslot address spaces (the as_id in bits 16+ of the slot): 1, or 2 on x86 kernels with SMM, where
    /// KVM_CAP_X86_SMM is 1 and KVM_CAP_MULTI_ADDRESS_SPACE 2. The model's vCPUs never enter SMM, so they only
    /// ever see address space 0.
    /// </summary>
    public required int AddressSpaces { get; init; }

    /// <summary>
    /// One past the highest gpa a memslot may cover (kvm_mmu_max_gfn, checked in kvm_arch_prepare_memory_region
    /// after kvm_gmem_bind): 2^52 with the shadow MMU, MAXPHYADDR with NPT/EPT.
    /// </summary>
    public required ulong GpaLimit { get; init; }

    /// <summary>KVM_CAP_PRE_FAULT_MEMORY. Reported only: the model has no KVM_PRE_FAULT_MEMORY.</summary>
    public required bool PreFaultMemory { get; init; }

    /// <summary>
    /// The rest of the host's KVM_CHECK_EXTENSION answers, by KVM_CAP_* name: capabilities the model either
    /// behaves the same for on every profile or does not act on. Reported in Raw as the host gave them.
    /// </summary>
    public required IReadOnlyDictionary<string, long> OtherCapabilities { get; init; }

    /// <summary>
    /// The model as it always was: KVM 6.18 semantics (kvm/probe/results.txt) plus the private VM types hardware
    /// would add (sw-protected, SEV-SNP, TDX), which bring private memory and memory attributes with them.
    /// </summary>
    public static SimulatedHostProfile Default { get; } = new()
    {
        Name = "default",
        Kernel = "KVM 6.18 semantics with every VM type",
        VmTypes = [VmType.Default, VmType.SwProtected, VmType.Snp, VmType.Tdx],
        GuestMemfd = true,
        GuestMemfdFlags = GuestMemfdFlags.Mmap | GuestMemfdFlags.InitShared,
        MemoryAttributesIoctl = false,
        OverlappingGmemErrno = Errno.EINVAL,
        GuestMemfdBindSumWraps = true,
        MaxVcpus = 1024,
        MaxMemslots = 32764,
        AddressSpaces = 1,
        GpaLimit = 1UL << 52,
        PreFaultMemory = false,
        OtherCapabilities = DefaultOtherCapabilities,
    };

    /// <summary>
    /// kvm/probe/results.txt: kvm_pvm on 6.18 (shadow MMU). Only the default VM type (types 1-6, 8, 0xff, 2^31 are
    /// EINVAL); guest_memfd with MMAP|INIT_SHARED; no KVM_SET_MEMORY_ATTRIBUTES (ENOTTY, KVM_CAP_MEMORY_ATTRIBUTES
    /// 0); an overlapping guest_memfd range is EINVAL; no SMM, so address space 1 is EINVAL; slots may end at 2^52.
    /// </summary>
    public static SimulatedHostProfile Kvm618Pvm { get; } = new()
    {
        Name = "kvm-6.18-pvm",
        Kernel = "kvm_pvm 6.18, kvm/probe/results.txt",
        VmTypes = [VmType.Default],
        GuestMemfd = true,
        GuestMemfdFlags = GuestMemfdFlags.Mmap | GuestMemfdFlags.InitShared,
        MemoryAttributesIoctl = false,
        OverlappingGmemErrno = Errno.EINVAL,
        GuestMemfdBindSumWraps = true,
        MaxVcpus = 1024,
        MaxMemslots = 32764,
        AddressSpaces = 1,
        GpaLimit = 1UL << 52,
        PreFaultMemory = false,
        OtherCapabilities = Pvm618OtherCapabilities,
    };

    /// <summary>
    /// The field report of 2026-12-04 (kvm/field-reports): the same kvm_pvm 6.18 without guest_memfd.
    /// KVM_CAP_GUEST_MEMFD and KVM_CAP_GUEST_MEMFD_FLAGS are 0 on /dev/kvm and on a VM, KVM_CREATE_GUEST_MEMFD is
    /// ENOTTY; every other capability is results.txt's. A default VM still runs guest programs over anonymous memory.
    /// </summary>
    public static SimulatedHostProfile Kvm618PvmNoGuestMemfd { get; } = Kvm618Pvm with
    {
        Name = "kvm-6.18-pvm-no-gmem",
        Kernel = "kvm_pvm 6.18 without guest_memfd, kvm/field-reports/2026-12-04",
        GuestMemfd = false,
        GuestMemfdFlags = GuestMemfdFlags.None,
    };

    /// <summary>
    /// kvm/nested/results-nested.txt: Debian's upstream 7.2.13 with kvm_amd (NPT, MAXPHYADDR 48), nested under
    /// emulation. As recorded there against 6.18: KVM_SET_MEMORY_ATTRIBUTES exists (a default VM takes attributes
    /// 0 and refuses PRIVATE with EINVAL; KVM_CAP_MEMORY_ATTRIBUTES is 8 on /dev/kvm, 0 on the VM), an overlapping
    /// guest_memfd range is EEXIST, SMM brings address space 1, slots must end at 2^48, PRE_FAULT_MEMORY 1,
    /// MAX_VCPUS 4096, X86_DISABLE_EXITS 15. Still the default VM type only (no SW_PROTECTED_VM in Debian's
    /// config). Every answer the file does not show as different keeps 6.18's, notably: KVM_MAX_VCPU_IDS (not
    /// probed on either host; taken as MAX_VCPUS), the order of the memslot checks (its "order" rows match
    /// 6.18's), and the guest_memfd flag, fallocate and bind rules (their rows match too), but for one the file
    /// does not probe: a guest_memfd range crossing 2^63 is EINVAL, where 6.18's loff_t sum wraps and binds
    /// (measured in tests/kvm-host's nested guests, 7.2.13 against 6.18.15). Recorded but outside the model:
    /// CPU-mode differences (the model runs guest programs, not x86 modes), SHUTDOWN resetting the vCPU,
    /// MADV_HWPOISON and KVM_PRE_FAULT_MEMORY succeeding (the model has neither call).
    /// </summary>
    public static SimulatedHostProfile Kvm72Debian { get; } = new()
    {
        Name = "kvm-7.2-debian",
        Kernel = "Debian 7.2.13 kvm_amd (NPT, MAXPHYADDR 48), kvm/nested/results-nested.txt",
        VmTypes = [VmType.Default],
        GuestMemfd = true,
        GuestMemfdFlags = GuestMemfdFlags.Mmap | GuestMemfdFlags.InitShared,
        MemoryAttributesIoctl = true,
        OverlappingGmemErrno = Errno.EEXIST,
        GuestMemfdBindSumWraps = false,
        MaxVcpus = 4096,
        MaxMemslots = 32764,
        AddressSpaces = 2,
        GpaLimit = 1UL << 48,
        PreFaultMemory = true,
        OtherCapabilities = Debian72OtherCapabilities,
    };

    /// <summary>Every named profile, <see cref="Default"/> first.</summary>
    public static IReadOnlyList<SimulatedHostProfile> All { get; } = [Default, Kvm618Pvm, Kvm618PvmNoGuestMemfd, Kvm72Debian];

    /// <summary>The names <see cref="ByName"/> knows, in the order of <see cref="All"/>.</summary>
    public static IReadOnlyList<string> Names { get; } = [.. All.Select(p => p.Name)];

    /// <summary>The profile called <paramref name="name"/> (ordinal); ArgumentException naming the valid names otherwise.</summary>
    public static SimulatedHostProfile ByName(string name) =>
        TryGetByName(name, out var profile)
            ? profile
            : throw new ArgumentException($"'{name}' is not a simulated host profile; valid names: {string.Join(", ", Names)}", nameof(name));

    public static bool TryGetByName(string? name, [NotNullWhen(true)] out SimulatedHostProfile? profile)
    {
        profile = All.FirstOrDefault(p => string.Equals(p.Name, name, StringComparison.Ordinal));
        return profile is not null;
    }

    public override string ToString() => Name;
}
