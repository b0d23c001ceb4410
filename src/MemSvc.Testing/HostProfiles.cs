namespace MemSvc.Testing;

/// <summary>
/// The hosts the simulated backend can be (MemSvc:Simulated:HostProfile): which VM types KVM_CREATE_VM accepts,
/// what KVM_CHECK_EXTENSION answers and the errno of the ioctls that differ between kernels, as measured on such
/// hosts. Test against the profile of the hosts you deploy to.
/// </summary>
public static class HostProfiles
{
    /// <summary>
    /// KVM 6.18 semantics plus the private VM types hardware adds (sw-protected, SEV-SNP, TDX), with private
    /// memory and memory attributes: the profile for confidential-VM fault flows.
    /// </summary>
    public const string Default = "default";

    /// <summary>kvm_pvm on 6.18: the default VM type only, guest_memfd with MMAP|INIT_SHARED, no memory attributes.</summary>
    public const string Kvm618Pvm = "kvm-6.18-pvm";

    /// <summary>The same kvm_pvm 6.18 without guest_memfd (KVM_CREATE_GUEST_MEMFD is ENOTTY).</summary>
    public const string Kvm618PvmNoGuestMemfd = "kvm-6.18-pvm-no-gmem";

    /// <summary>Debian's 7.2 with kvm_amd: memory attributes on /dev/kvm, SMM, the default VM type only.</summary>
    public const string Kvm72Debian = "kvm-7.2-debian";

    /// <summary>Every profile, <see cref="Default"/> first.</summary>
    public static IReadOnlyList<string> All { get; } = [Default, Kvm618Pvm, Kvm618PvmNoGuestMemfd, Kvm72Debian];
}
