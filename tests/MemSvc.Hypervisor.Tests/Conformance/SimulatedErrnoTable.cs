using MemSvc.Hypervisor.Simulated;

namespace MemSvc.Hypervisor.Tests.Conformance;

public class SimulatedErrnoTable : ErrnoTableConformance
{
    protected override bool RunsSimulatedOnlyRows => true;

    protected override IHypervisor CreateHypervisor() => new SimulatedHypervisor();
}
