using MemSvc.Hypervisor.Tests.Kvm;

namespace MemSvc.Hypervisor.Tests.Conformance;

/// <summary>The same lifecycle rows on real /dev/kvm: parity with the simulated backend and with results.txt.</summary>
public class KvmLifecycle : LifecycleConformance
{
    protected override IHypervisor CreateHypervisor() => KvmTestHost.Open();
}
