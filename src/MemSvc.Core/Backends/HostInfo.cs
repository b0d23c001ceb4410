using MemSvc.Hypervisor;

namespace MemSvc.Core.Backends;

/// <summary>What GetHostInfo reports: the backends, the default one, and what each probed at start-up.</summary>
public sealed record HostInfo(string DefaultBackend, IReadOnlyList<BackendInfo> Backends);

/// <summary>One backend and its capabilities (kernel version, VM types, limits, every KVM_CAP_* probed).</summary>
public sealed record BackendInfo(string Name, bool IsDefault, HypervisorCapabilities Capabilities);
