using MemSvc.Core.Errors;
using MemSvc.Hypervisor;

namespace MemSvc.Core.Backends;

/// <summary>
/// The hypervisors this host offers, by name ("kvm", "simulated"), and the one a VM gets when it names none.
/// The host decides what goes in (kvm when /dev/kvm opens) and keeps ownership: Core never disposes them.
/// </summary>
public sealed class BackendCatalog
{
    private readonly Dictionary<string, IHypervisor> _backends;

    public BackendCatalog(IReadOnlyDictionary<string, IHypervisor> backends, string defaultBackend)
    {
        ArgumentNullException.ThrowIfNull(backends);
        ArgumentException.ThrowIfNullOrEmpty(defaultBackend);
        _backends = new Dictionary<string, IHypervisor>(backends, StringComparer.Ordinal);
        if (!_backends.ContainsKey(defaultBackend))
        {
            throw new ArgumentException($"default backend '{defaultBackend}' is not in the catalog", nameof(defaultBackend));
        }

        DefaultBackend = defaultBackend;
    }

    public string DefaultBackend { get; }

    /// <summary>Backend names in ordinal order.</summary>
    public IReadOnlyList<string> Names => [.. _backends.Keys.Order(StringComparer.Ordinal)];

    /// <summary>Every backend with its probed capabilities, for GetHostInfo.</summary>
    public HostInfo GetHostInfo() =>
        new(DefaultBackend, [.. Names.Select(n => new BackendInfo(n, n == DefaultBackend, _backends[n].Capabilities))]);

    /// <summary>The backend called <paramref name="name"/> (empty: the default); FAILED_PRECONDITION BACKEND_UNAVAILABLE when absent.</summary>
    public (string Name, IHypervisor Hypervisor) Resolve(string? name)
    {
        var wanted = string.IsNullOrEmpty(name) ? DefaultBackend : name;
        if (_backends.TryGetValue(wanted, out var hypervisor))
        {
            return (wanted, hypervisor);
        }

        throw new CoreException(
            ErrorKind.FailedPrecondition,
            ErrorReasons.BackendUnavailable,
            $"backend '{wanted}' is not available on this host (available: {string.Join(", ", Names)})",
            "backend",
            CoreErrors.Meta("backend", wanted));
    }
}
