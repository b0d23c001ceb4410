using System.Text.RegularExpressions;
using MemSvc.Hypervisor.Simulated;

namespace MemSvc.Hypervisor.Tests.Conformance;

/// <summary>
/// The few facts of a host on which errno rows differ between real kernels, each read from what the host reports
/// (its probed capabilities and kernel release), never assumed. Two recorded hosts pin the derivation:
/// <see cref="ProbeHost"/> (kvm/probe/results.txt, kvm_pvm 6.18) and <see cref="NestedHost"/>
/// (kvm/nested/results-nested.txt, Debian's 7.2 under NPT).
/// </summary>
/// <param name="MemoryAttributesIoctl">KVM_SET_MEMORY_ATTRIBUTES exists for a default VM.</param>
/// <param name="DefaultVmAttributes">KVM_CAP_MEMORY_ATTRIBUTES on a default VM: what it accepts besides 0.</param>
/// <param name="AddressSpaces">KVM_CAP_MULTI_ADDRESS_SPACE (0 reported means one).</param>
/// <param name="MaxGpaBits">No memslot may end past 2^MaxGpaBits (<see cref="HypervisorCapabilities.MaxGpaBits"/>).</param>
/// <param name="GmemRangeOverlap">The errno for a binding whose guest_memfd range overlaps another slot's (SEMANTICS MS-19).</param>
/// <param name="GmemBindSumWraps">A guest_memfd range crossing 2^63 binds, its loff_t end having wrapped (6.18), rather than EINVAL (7.2).</param>
public sealed partial record HostShape(
    bool MemoryAttributesIoctl, MemoryAttributes DefaultVmAttributes, int AddressSpaces, int MaxGpaBits, Errno GmemRangeOverlap, bool GmemBindSumWraps)
{
    /// <summary>The host of kvm/probe/results.txt: kvm_pvm 6.18, shadow MMU, no attributes ioctl, no SMM.</summary>
    public static HostShape ProbeHost { get; } = new(false, MemoryAttributes.None, 1, 52, Errno.EINVAL, true);

    /// <summary>The guest of kvm/nested/results-nested.txt: Debian 7.2, kvm_amd with NPT, MAXPHYADDR 48, SMM.</summary>
    public static HostShape NestedHost { get; } = new(true, MemoryAttributes.None, 2, 48, Errno.EEXIST, false);

    public static HostShape Of(IHypervisor hypervisor)
    {
        var caps = hypervisor.Capabilities;
        using var vm = hypervisor.CreateVm(VmType.Default);
        var spaces = caps.Raw.TryGetValue("KVM_CAP_MULTI_ADDRESS_SPACE", out var n) && n > 1 ? (int)n : 1;
        // The model states its kernel's answers in its profile; a real kernel is known by its release.
        var (overlap, wraps) = hypervisor is SimulatedHypervisor simulated
            ? (simulated.Options.Profile.OverlappingGmemErrno, simulated.Options.Profile.GuestMemfdBindSumWraps)
            : (OverlapErrno(caps.KernelVersion), BindSumWraps(caps.KernelVersion));
        return new HostShape(vm.Capabilities.MemoryAttributesIoctl, vm.Capabilities.MemoryAttributes, spaces, caps.MaxGpaBits, overlap, wraps);
    }

    /// <summary>
    /// MS-19 changed ABI: 6.18 answers EINVAL (results.txt, and Debian's 6.18.15 in tests/kvm-host), upstream 7.2
    /// EEXIST (results-nested.txt), as kvm-x86/next did before it. The kernel release (or, for the model, the kernel
    /// it follows) decides; 6.19 is not known and is taken as the newer answer.
    /// </summary>
    public static Errno OverlapErrno(string kernelVersion) => AtMost618(kernelVersion) ? Errno.EINVAL : Errno.EEXIST;

    /// <summary>
    /// kvm_gmem_bind's loff_t wrap: a range crossing 2^63 binds on Debian's 6.18.15 and is EINVAL on its 7.2.13
    /// (both measured in tests/kvm-host's nested guests). 6.19 to 7.1 are not known and are taken as the newer answer.
    /// </summary>
    public static bool BindSumWraps(string kernelVersion) => AtMost618(kernelVersion);

    /// <summary>The answer to a slot of <paramref name="size"/> bytes at <paramref name="gpa"/> by address alone.</summary>
    public Errno? SlotEnd(ulong gpa, ulong size) => gpa + size <= 1UL << MaxGpaBits ? null : Errno.EINVAL;

    /// <summary>KVM_SET_MEMORY_ATTRIBUTES with <paramref name="attributes"/> on a default VM, its range and flags valid.</summary>
    public Errno? SetAttributes(MemoryAttributes attributes) =>
        !MemoryAttributesIoctl ? Errno.ENOTTY : (attributes & ~DefaultVmAttributes) != 0 ? Errno.EINVAL : null;

    private static bool AtMost618(string kernelVersion)
    {
        var match = KernelVersionPattern().Match(kernelVersion);
        if (!match.Success)
        {
            return false;
        }

        var (major, minor) = (int.Parse(match.Groups[1].Value), int.Parse(match.Groups[2].Value));
        return major < 6 || (major == 6 && minor <= 18);
    }

    [GeneratedRegex(@"(\d+)\.(\d+)")]
    private static partial Regex KernelVersionPattern();
}
