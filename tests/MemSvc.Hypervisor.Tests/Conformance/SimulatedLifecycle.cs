using MemSvc.Hypervisor.Simulated;

namespace MemSvc.Hypervisor.Tests.Conformance;

public class SimulatedLifecycle : LifecycleConformance
{
    protected override IHypervisor CreateHypervisor() => new SimulatedHypervisor();
}
