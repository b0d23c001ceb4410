using System.Diagnostics.CodeAnalysis;

namespace MemSvc.Hypervisor.Kvm;

/// <summary>
/// The kvm backend: /dev/kvm driven through ioctls. Capabilities are probed once, when it opens; the per-vCPU
/// constants (kvm_run size, supported CPUID) are read then too, so VMs never need /dev/kvm again.
/// </summary>
public sealed partial class KvmHypervisor : IHypervisor
{
    /// <summary>The only KVM API version there has ever been since Linux 2.6.22.</summary>
    public const int ExpectedApiVersion = 12;

    private readonly KvmSystem _system;
    private readonly VcpuConstants _vcpuConstants;

    private KvmHypervisor(KvmSystem system)
    {
        _system = system;
        var version = system.GetApiVersion();
        if (version != ExpectedApiVersion)
        {
            throw new HypervisorException(Errno.EINVAL, "KVM_GET_API_VERSION", $"KVM API version {version}; this backend speaks version {ExpectedApiVersion}");
        }

        var supportedCpuid = system.GetSupportedCpuid();
        Capabilities = KvmCapabilityProbe.Probe(system, supportedCpuid);
        _vcpuConstants = new VcpuConstants(system.GetVcpuMmapSize(), supportedCpuid);
    }

    public HypervisorCapabilities Capabilities { get; }

    internal KvmSystem System => _system;

    /// <summary>Opens /dev/kvm and probes it; throws <see cref="HypervisorException"/> with open(2)'s errno when it cannot.</summary>
    public static KvmHypervisor Open()
    {
        var system = KvmSystem.Open();
        try
        {
            return new KvmHypervisor(system);
        }
        catch
        {
            system.Dispose();
            throw;
        }
    }

    /// <summary>Opens /dev/kvm, or says why not (for the service's backend choice and for test skips).</summary>
    public static bool TryOpen([NotNullWhen(true)] out KvmHypervisor? hypervisor, [NotNullWhen(false)] out string? reason)
    {
        try
        {
            hypervisor = Open();
            reason = null;
            return true;
        }
        catch (HypervisorException e)
        {
            hypervisor = null;
            reason = KvmOpenFailure.Describe(e);
            return false;
        }
    }

    /// <summary>Whether /dev/kvm opens and answers; <paramref name="reason"/> says why not.</summary>
    public static bool IsAvailable([NotNullWhen(false)] out string? reason)
    {
        if (TryOpen(out var hypervisor, out reason))
        {
            hypervisor.Dispose();
            return true;
        }

        return false;
    }

    /// <summary>KVM_CREATE_VM: the kernel's EINVAL for a type it does not support.</summary>
    public IVm CreateVm(VmType type) => new KvmVm(_system.CreateVm((ulong)type), type, Capabilities, _vcpuConstants);

    public void Dispose() => _system.Dispose();
}

/// <summary>What every vCPU needs from /dev/kvm: the kvm_run mapping size and the CPUID to give the guest.</summary>
internal sealed record VcpuConstants(int RunMmapSize, KvmCpuidEntry2[] SupportedCpuid);
