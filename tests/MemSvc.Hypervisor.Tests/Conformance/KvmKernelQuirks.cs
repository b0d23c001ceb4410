using MemSvc.Hypervisor.Tests.Kvm;

namespace MemSvc.Hypervisor.Tests.Conformance;

/// <summary>The kernel-quirk rows on real /dev/kvm: the kernel's own answers, which the profiles must give too.</summary>
public class KvmKernelQuirks : KernelQuirkConformance
{
    protected override IHypervisor CreateHypervisor() => KvmTestHost.Open();
}
