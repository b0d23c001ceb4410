using MemSvc.Core.Identity;
using MemSvc.Core.Vms;
using MemSvc.Hypervisor;

namespace MemSvc.Core.Vcpus;

/// <summary>VcpuService: LoadGuestProgram, StartVcpu, PauseVcpu, GetVcpu, ListVcpus.</summary>
public sealed class VcpuOperations
{
    private readonly CoreContext _context;

    internal VcpuOperations(CoreContext context)
    {
        _context = context;
    }

    /// <summary>Loads a program (checked with GuestProgram.Validate); refused while the vCPU runs or waits (VCPU_BUSY).</summary>
    public VcpuInfo LoadGuestProgram(CallerIdentity caller, string vmId, int index, GuestProgram program)
    {
        var vcpu = Find(caller, vmId, index);
        vcpu.Load(program);
        return vcpu.Info();
    }

    /// <summary>Starts a READY vCPU's run loop on its own thread, or resumes a PAUSED one.</summary>
    public VcpuInfo StartVcpu(CallerIdentity caller, string vmId, int index)
    {
        var vcpu = Find(caller, vmId, index);
        vcpu.Start();
        return vcpu.Info();
    }

    /// <summary>Asks the vCPU to exit KVM_RUN; it turns PAUSED when its loop sees the exit (a VCPU_STATE_CHANGED event).</summary>
    public VcpuInfo PauseVcpu(CallerIdentity caller, string vmId, int index)
    {
        var vcpu = Find(caller, vmId, index);
        vcpu.Pause();
        return vcpu.Info();
    }

    public VcpuInfo GetVcpu(CallerIdentity caller, string vmId, int index) => Find(caller, vmId, index).Info();

    public IReadOnlyList<VcpuInfo> ListVcpus(CallerIdentity caller, string vmId) =>
        [.. _context.Find(caller, vmId).Vcpus.Select(v => v.Info())];

    private VcpuRunner Find(CallerIdentity caller, string vmId, int index)
    {
        var vm = _context.Find(caller, vmId);
        return vm.Vcpu(index);
    }
}
