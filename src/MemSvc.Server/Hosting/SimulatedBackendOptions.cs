using MemSvc.Hypervisor.Simulated;

namespace MemSvc.Server.Hosting;

/// <summary>The "MemSvc:Simulated" section: which host the simulated backend models.</summary>
public sealed class SimulatedBackendOptions
{
    /// <summary>
    /// A host profile by name (<see cref="SimulatedHostProfile.Names"/>): "default" (every VM type, private memory),
    /// "kvm-6.18-pvm", "kvm-6.18-pvm-no-gmem" or "kvm-7.2-debian", so that orchestrators can be tested against the
    /// host they deploy to. Another name fails start-up.
    /// </summary>
    public string HostProfile { get; set; } = SimulatedHostProfile.Default.Name;
}
