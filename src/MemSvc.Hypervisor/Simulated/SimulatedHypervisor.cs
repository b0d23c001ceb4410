namespace MemSvc.Hypervisor.Simulated;

/// <summary>
/// The simulated backend: an in-process model of KVM as measured on this machine (v6.18, see
/// kvm/probe/results.txt), plus the private VM types that hardware would add (sw-protected, SEV-SNP, TDX).
/// </summary>
public sealed class SimulatedHypervisor : IHypervisor
{
    private static readonly VmType[] SupportedTypes = [VmType.Default, VmType.SwProtected, VmType.Snp, VmType.Tdx];

    private readonly UserAddressSpace _addressSpace = new();

    public SimulatedHypervisor()
        : this(new SimulatedHypervisorOptions())
    {
    }

    public SimulatedHypervisor(SimulatedHypervisorOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        Options = options;
        Capabilities = BuildCapabilities();
    }

    public HypervisorCapabilities Capabilities { get; }

    public SimulatedHypervisorOptions Options { get; }

    /// <summary>Mappings alive in the model's user address space (shared sides of memslots).</summary>
    public int UserMappingCount => _addressSpace.Count;

    internal UserAddressSpace AddressSpace => _addressSpace;

    /// <summary>KVM_CREATE_VM: EINVAL for SEV, SEV-ES and any type the model does not have.</summary>
    public IVm CreateVm(VmType type) => CreateSimulatedVm(type);

    public SimulatedVm CreateSimulatedVm(VmType type)
    {
        if (Array.IndexOf(SupportedTypes, type) < 0)
        {
            throw Fail.Inval("KVM_CREATE_VM", $"VM type {(int)type} is not supported", "type");
        }

        return new SimulatedVm(this, type);
    }

    /// <summary>Nothing to release: every VM and file lives on its own, as after close(/dev/kvm).</summary>
    public void Dispose()
    {
    }

    internal static VmCapabilities VmCapabilitiesFor(VmType type) => new()
    {
        GuestMemfdFlags = GuestMemfdRules.SupportedFlags(type),
        MemoryAttributes = type.HasPrivateMemory() ? MemoryAttributes.Private : MemoryAttributes.None,
        MemoryAttributesIoctl = type.HasPrivateMemory(),
        ExitHypercallMask = KvmLimits.ExitHypercallValidMask,
    };

    private static HypervisorCapabilities BuildCapabilities()
    {
        ulong vmTypes = 0;
        foreach (var t in SupportedTypes)
        {
            vmTypes |= 1UL << (int)t;
        }

        var defaultFlags = GuestMemfdRules.SupportedFlags(VmType.Default);
        var raw = new Dictionary<string, long>
        {
            ["KVM_CAP_USER_MEMORY"] = 1,
            ["KVM_CAP_NR_MEMSLOTS"] = KvmLimits.MaxMemslots,
            ["KVM_CAP_SYNC_MMU"] = 1,
            ["KVM_CAP_MAX_VCPUS"] = KvmLimits.MaxVcpus,
            ["KVM_CAP_READONLY_MEM"] = 1,
            ["KVM_CAP_ENABLE_CAP_VM"] = 1,
            ["KVM_CAP_CHECK_EXTENSION_VM"] = 1,
            ["KVM_CAP_X86_SMM"] = 0,
            ["KVM_CAP_MULTI_ADDRESS_SPACE"] = 0,
            ["KVM_CAP_IMMEDIATE_EXIT"] = 1,
            ["KVM_CAP_EXIT_HYPERCALL"] = (long)KvmLimits.ExitHypercallValidMask,
            ["KVM_CAP_USER_MEMORY2"] = 1,
            ["KVM_CAP_MEMORY_FAULT_INFO"] = 1,
            ["KVM_CAP_MEMORY_ATTRIBUTES"] = (long)MemoryAttributes.Private,
            ["KVM_CAP_GUEST_MEMFD"] = 1,
            ["KVM_CAP_VM_TYPES"] = (long)vmTypes,
            ["KVM_CAP_PRE_FAULT_MEMORY"] = 0,
            ["KVM_CAP_GUEST_MEMFD_FLAGS"] = (long)defaultFlags,
        };
        return new HypervisorCapabilities
        {
            Backend = "simulated",
            KernelVersion = "simulated (KVM 6.18 semantics)",
            ApiVersion = 12,
            VmTypes = SupportedTypes,
            UserMemory2 = true,
            GuestMemfd = true,
            GuestMemfdFlags = defaultFlags,
            MemoryAttributes = MemoryAttributes.Private,
            MemoryFaultInfo = true,
            ExitHypercallMask = KvmLimits.ExitHypercallValidMask,
            MaxMemslots = KvmLimits.MaxMemslots,
            MaxVcpus = KvmLimits.MaxVcpus,
            Raw = raw,
        };
    }
}
