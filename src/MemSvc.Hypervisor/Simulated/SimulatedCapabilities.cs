using MemSvc.Hypervisor.Kvm;

namespace MemSvc.Hypervisor.Simulated;

/// <summary>
/// What KVM_CHECK_EXTENSION answers for a host profile, on /dev/kvm and on a VM of each type, in the shapes the
/// kvm backend's probe reports (same typed fields, same Raw names, "vm."-prefixed VM-level answers), so that a
/// test can hold a profile and a real host of that shape to one expectation.
/// </summary>
internal static class SimulatedCapabilities
{
    public static HypervisorCapabilities ForHost(SimulatedHostProfile profile)
    {
        var defaultVm = ForVm(profile, VmType.Default);
        var memoryAttributes = SystemMemoryAttributes(profile);
        var raw = new Dictionary<string, long>(profile.OtherCapabilities, StringComparer.Ordinal)
        {
            ["KVM_CAP_NR_MEMSLOTS"] = profile.MaxMemslots,
            ["KVM_CAP_MAX_VCPUS"] = profile.MaxVcpus,
            ["KVM_CAP_X86_SMM"] = profile.AddressSpaces > 1 ? 1 : 0,
            ["KVM_CAP_MULTI_ADDRESS_SPACE"] = profile.AddressSpaces > 1 ? profile.AddressSpaces : 0,
            ["KVM_CAP_EXIT_HYPERCALL"] = (long)KvmLimits.ExitHypercallValidMask,
            ["KVM_CAP_USER_MEMORY2"] = 1,
            ["KVM_CAP_MEMORY_FAULT_INFO"] = 1,
            ["KVM_CAP_MEMORY_ATTRIBUTES"] = (long)memoryAttributes,
            ["KVM_CAP_GUEST_MEMFD"] = profile.GuestMemfd ? 1 : 0,
            ["KVM_CAP_VM_TYPES"] = (long)VmTypesMask(profile.VmTypes),
            ["KVM_CAP_PRE_FAULT_MEMORY"] = profile.PreFaultMemory ? 1 : 0,
            ["KVM_CAP_GUEST_MEMFD_FLAGS"] = (long)GuestMemfdRules.SupportedFlags(profile, null),
            [KvmCapabilityProbe.VmKeyPrefix + "KVM_CAP_GUEST_MEMFD_FLAGS"] = (long)defaultVm.GuestMemfdFlags,
            [KvmCapabilityProbe.VmKeyPrefix + "KVM_CAP_MEMORY_ATTRIBUTES"] = (long)defaultVm.MemoryAttributes,
            [KvmCapabilityProbe.VmKeyPrefix + "KVM_CAP_EXIT_HYPERCALL"] = (long)defaultVm.ExitHypercallMask,
        };

        return new HypervisorCapabilities
        {
            Backend = "simulated",
            KernelVersion = $"simulated ({profile.Name}: {profile.Kernel})",
            ApiVersion = 12,
            VmTypes = profile.VmTypes,
            UserMemory2 = true,
            GuestMemfd = profile.GuestMemfd,
            GuestMemfdFlags = defaultVm.GuestMemfdFlags,
            MemoryAttributes = memoryAttributes,
            MemoryFaultInfo = true,
            ExitHypercallMask = KvmLimits.ExitHypercallValidMask,
            MaxMemslots = profile.MaxMemslots,
            MaxVcpus = profile.MaxVcpus,
            MaxGpaBits = System.Numerics.BitOperations.Log2(profile.GpaLimit),
            Raw = raw,
        };
    }

    /// <summary>KVM_CHECK_EXTENSION on a VM of <paramref name="type"/>.</summary>
    public static VmCapabilities ForVm(SimulatedHostProfile profile, VmType type) => new()
    {
        GuestMemfdFlags = GuestMemfdRules.SupportedFlags(profile, type),

        // kvm_supported_mem_attributes(kvm): PRIVATE only where the VM has private memory (MA-2).
        MemoryAttributes = type.HasPrivateMemory() ? MemoryAttributes.Private : MemoryAttributes.None,
        MemoryAttributesIoctl = type.HasPrivateMemory() || profile.MemoryAttributesIoctl,
        ExitHypercallMask = KvmLimits.ExitHypercallValidMask,
    };

    // kvm_supported_mem_attributes(NULL) answers PRIVATE wherever the ioctl exists at all: on kernels with generic
    // memory attributes, and in the model wherever a VM type with private memory (which has the ioctl) exists.
    private static MemoryAttributes SystemMemoryAttributes(SimulatedHostProfile profile) =>
        profile.MemoryAttributesIoctl || profile.VmTypes.Any(t => t.HasPrivateMemory())
            ? MemoryAttributes.Private
            : MemoryAttributes.None;

    private static ulong VmTypesMask(IEnumerable<VmType> types)
    {
        ulong mask = 0;
        foreach (var t in types)
        {
            mask |= 1UL << (int)t;
        }

        return mask;
    }
}
