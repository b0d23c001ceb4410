namespace MemSvc.Hypervisor.Simulated;

/// <summary>
/// The simulated backend: an in-process model of KVM. Which kernel it models, its VM types, capabilities and the
/// errno of the ioctls that differ between kernels, is its host profile (<see cref="SimulatedHostProfile"/>,
/// <see cref="SimulatedHypervisorOptions.Profile"/>); by default KVM 6.18 semantics as measured in
/// kvm/probe/results.txt plus the private VM types hardware would add (sw-protected, SEV-SNP, TDX).
/// </summary>
public sealed partial class SimulatedHypervisor : IHypervisor
{
    private readonly UserAddressSpace _addressSpace = new();

    public SimulatedHypervisor()
        : this(new SimulatedHypervisorOptions())
    {
    }

    public SimulatedHypervisor(SimulatedHypervisorOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(options.Profile);
        Options = options;
        Capabilities = SimulatedCapabilities.ForHost(options.Profile);
    }

    public HypervisorCapabilities Capabilities { get; }

    public SimulatedHypervisorOptions Options { get; }

    /// <summary>The host this hypervisor models.</summary>
    public SimulatedHostProfile Profile => Options.Profile;

    /// <summary>Mappings alive in the model's user address space (shared sides of memslots).</summary>
    public int UserMappingCount => _addressSpace.Count;

    internal UserAddressSpace AddressSpace => _addressSpace;

    /// <summary>KVM_CREATE_VM: EINVAL for any type the profile does not have (KVM_CAP_VM_TYPES).</summary>
    public IVm CreateVm(VmType type) => CreateSimulatedVm(type);

    public SimulatedVm CreateSimulatedVm(VmType type)
    {
        if (!Profile.VmTypes.Contains(type))
        {
            throw Fail.Inval("KVM_CREATE_VM", $"VM type {(int)type} is not supported by host profile {Profile.Name}", "type");
        }

        return new SimulatedVm(this, type);
    }

    /// <summary>Nothing to release: every VM and file lives on its own, as after close(/dev/kvm).</summary>
    public void Dispose()
    {
    }
}
