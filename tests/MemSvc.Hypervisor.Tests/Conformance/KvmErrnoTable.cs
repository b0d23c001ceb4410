using MemSvc.Hypervisor.Tests.Kvm;

namespace MemSvc.Hypervisor.Tests.Conformance;

/// <summary>The same errno rows on real /dev/kvm: parity with the simulated backend and with results.txt.</summary>
public class KvmErrnoTable : ErrnoTableConformance
{
    protected override IHypervisor CreateHypervisor() => KvmTestHost.Open();
}
