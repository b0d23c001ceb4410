using MemSvc.Hypervisor.Simulated;

namespace MemSvc.Hypervisor.Tests.Conformance;

/// <summary>results.txt's caps and gmem sections against the kvm-6.18-pvm host profile.</summary>
public class SimulatedPvmLifecycle : LifecycleConformance
{
    protected override IHypervisor CreateHypervisor() =>
        new SimulatedHypervisor(new SimulatedHypervisorOptions { Profile = SimulatedHostProfile.Kvm618Pvm });
}
