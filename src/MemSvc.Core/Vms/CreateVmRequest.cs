using MemSvc.Core.Faults;
using MemSvc.Hypervisor;

namespace MemSvc.Core.Vms;

/// <summary>
/// CreateVm's arguments. Empty or unspecified values take defaults: a generated id (vm- and 8 hex digits), the
/// catalog's default backend, AUTO, the configured resolution timeout, and FAIL as the timeout fallback.
/// </summary>
public sealed record CreateVmRequest
{
    /// <summary>AIP-122 id: [a-z]([a-z0-9-]{0,61}[a-z0-9])?; empty generates one.</summary>
    public string? VmId { get; init; }

    /// <summary>"kvm", "simulated", or empty for the host's default.</summary>
    public string? Backend { get; init; }

    public VmType VmType { get; init; } = VmType.Default;

    public int VcpuCount { get; init; } = 1;

    public FaultPolicy FaultPolicy { get; init; } = FaultPolicy.Auto;

    /// <summary>How long an ORCHESTRATOR fault waits for ResolveFault; zero takes the configured default.</summary>
    public TimeSpan ResolutionTimeout { get; init; }

    /// <summary>What applies when the timeout passes: CONVERT, RETRY or FAIL; unspecified means FAIL.</summary>
    public FaultAction TimeoutFallback { get; init; } = FaultAction.Unspecified;
}
