namespace MemSvc.Testcontainers;

/// <summary>Which backend the container's VMs use by default (MemSvc:DefaultBackend).</summary>
public enum MemSvcBackend
{
    /// <summary>The simulated backend only; the container never opens /dev/kvm. Runs on any Docker host.</summary>
    Simulated,

    /// <summary>Real KVM: the host's /dev/kvm is passed into the container (with its group); start-up fails without it.</summary>
    Kvm,

    /// <summary>KVM when the host has /dev/kvm (passed in), else the simulated backend.</summary>
    Auto,
}
