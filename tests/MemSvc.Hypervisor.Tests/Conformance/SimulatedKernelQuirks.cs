using MemSvc.Hypervisor.Simulated;

namespace MemSvc.Hypervisor.Tests.Conformance;

public class SimulatedKernelQuirks : KernelQuirkConformance
{
    protected override IHypervisor CreateHypervisor() => new SimulatedHypervisor();
}
