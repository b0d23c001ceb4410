namespace MemSvc.Hypervisor;

/// <summary>
/// A hypervisor: /dev/kvm (Kvm/) or the model of it (Simulated/). The root of Hypervisor → Vm → Vcpu,
/// as in cloud-hypervisor's hypervisor crate: one contract, two backends.
/// </summary>
public interface IHypervisor : IDisposable
{
    /// <summary>What this hypervisor reported at start-up.</summary>
    HypervisorCapabilities Capabilities { get; }

    /// <summary>KVM_CREATE_VM. EINVAL for a type the hypervisor does not support.</summary>
    IVm CreateVm(VmType type);
}
