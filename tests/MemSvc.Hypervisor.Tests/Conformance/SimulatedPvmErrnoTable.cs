using MemSvc.Hypervisor.Simulated;

namespace MemSvc.Hypervisor.Tests.Conformance;

/// <summary>
/// results.txt's errno table against the host profile of the host it was taken on (kvm-6.18-pvm): only the
/// default VM type, no attributes ioctl. The same rows as on that real host, from a hypervisor built as any test
/// builds one for a profile.
/// </summary>
public class SimulatedPvmErrnoTable : ErrnoTableConformance
{
    protected override bool RunsRowsUnsafeOnRealKvm => true;

    protected override IHypervisor CreateHypervisor() =>
        new SimulatedHypervisor(new SimulatedHypervisorOptions { Profile = SimulatedHostProfile.Kvm618Pvm });
}
