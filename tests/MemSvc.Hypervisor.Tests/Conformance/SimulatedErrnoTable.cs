using MemSvc.Hypervisor.Simulated;

namespace MemSvc.Hypervisor.Tests.Conformance;

public class SimulatedErrnoTable : ErrnoTableConformance
{
    protected override bool RunsRowsUnsafeOnRealKvm => true;

    protected override IHypervisor CreateHypervisor() => new SimulatedHypervisor();
}
