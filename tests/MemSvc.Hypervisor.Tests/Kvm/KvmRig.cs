using MemSvc.Hypervisor.Kvm;
using MemSvc.Hypervisor.Tests.Capabilities;

namespace MemSvc.Hypervisor.Tests.Kvm;

/// <summary>A small default VM on real /dev/kvm for one test: the hypervisor, the VM, and optionally a vCPU.</summary>
internal sealed class KvmRig : IDisposable
{
    public const ulong M = 1UL << 20;

    /// <summary>A default VM on a host that has <paramref name="needs"/>; the test is skipped, naming what is missing, elsewhere.</summary>
    public KvmRig(HostNeed needs = HostNeed.None)
    {
        Hypervisor = KvmTestHost.Open(needs);
        Vm = (KvmVm)Hypervisor.CreateVm(VmType.Default);
    }

    public KvmHypervisor Hypervisor { get; }

    public KvmVm Vm { get; }

    /// <summary>A rig with an anonymous 4 MiB slot 1 at gpa 2 MiB and vCPU 0.</summary>
    public static (KvmRig Rig, KvmVcpu Vcpu) WithAnonymousSlotAndVcpu(HostNeed needs = HostNeed.None)
    {
        var rig = new KvmRig(needs);
        rig.Vm.SetUserMemoryRegion(new MemoryRegion(1, MemoryRegionFlags.None, 2 * M, 4 * M, SharedBacking.Anonymous));
        return (rig, (KvmVcpu)rig.Vm.CreateVcpu(0));
    }

    public static HypervisorException Fails(Action action) => Assert.Throws<HypervisorException>(action);

    public void Dispose()
    {
        Vm.Dispose();
        Hypervisor.Dispose();
    }
}
