using MemSvc.Hypervisor.Kvm;

namespace MemSvc.Hypervisor.Tests.Kvm;

/// <summary>A small default VM on real /dev/kvm for one test: the hypervisor, the VM, and optionally a vCPU.</summary>
internal sealed class KvmRig : IDisposable
{
    public const ulong M = 1UL << 20;

    public KvmRig()
    {
        Hypervisor = KvmTestHost.Open();
        Vm = (KvmVm)Hypervisor.CreateVm(VmType.Default);
    }

    public KvmHypervisor Hypervisor { get; }

    public KvmVm Vm { get; }

    /// <summary>A rig with an anonymous 4 MiB slot 1 at gpa 2 MiB and vCPU 0.</summary>
    public static (KvmRig Rig, KvmVcpu Vcpu) WithAnonymousSlotAndVcpu()
    {
        var rig = new KvmRig();
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
