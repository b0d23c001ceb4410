using MemSvc.Core.Backends;
using MemSvc.Core.Options;
using MemSvc.Core.Vms;
using MemSvc.Hypervisor;
using MemSvc.Hypervisor.Kvm;
using MemSvc.Hypervisor.Simulated;
using MemSvc.Server.Mapping;
using Microsoft.Extensions.Options;

namespace MemSvc.Server.Hosting;

/// <summary>
/// Owns the VMM and the hypervisors under it. Stopping the host stops it first (before Kestrel drains), so that
/// vCPU threads stop and every watch stream ends instead of holding shutdown open.
/// </summary>
internal sealed class CoreHost : IHostedService, IAsyncDisposable
{
    private readonly List<IHypervisor> _hypervisors;
    private readonly ILogger<CoreHost> _logger;

    public CoreHost(IOptions<MemSvcOptions> options, ILogger<CoreHost> logger, ILoggerFactory loggerFactory, IEnumerable<IBackendDecorator> decorators)
    {
        _logger = logger;
        var settings = options.Value;
        _hypervisors = [new SimulatedHypervisor()];
        if (!settings.OpenKvm)
        {
            ServerLog.KvmUnavailable(logger, "MemSvc:OpenKvm is false");
        }
        else if (KvmHypervisor.TryOpen(out var kvm, out var reason))
        {
            _hypervisors.Add(kvm);
        }
        else
        {
            ServerLog.KvmUnavailable(logger, reason);
        }

        _hypervisors = [.. _hypervisors.Select(h => decorators.Aggregate(h, (inner, decorator) => decorator.Decorate(inner)))];
        var backends = _hypervisors.ToDictionary(h => h.Capabilities.Backend, h => h, StringComparer.Ordinal);
        var defaultBackend = ChooseDefault(settings.DefaultBackend, backends);
        foreach (var (name, hypervisor) in backends)
        {
            ServerLog.BackendReady(logger, name, hypervisor.Capabilities.KernelVersion, defaultBackend);
        }

        Manager = new VmManager(
            new BackendCatalog(backends, defaultBackend),
            new CoreOptions
            {
                JournalCapacity = settings.JournalRetention,
                DefaultResolutionTimeout = settings.ResolutionTimeout,
                MaxResolutionTimeout = MemSvcOptionsValidator.MaxResolutionTimeout,
                Quotas = settings.Quotas,
            },
            loggerFactory);
    }

    public VmManager Manager { get; }

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        ServerLog.Stopping(_logger);
        await Manager.DisposeAsync().ConfigureAwait(false);
    }

    public async ValueTask DisposeAsync()
    {
        await Manager.DisposeAsync().ConfigureAwait(false);
        foreach (var hypervisor in _hypervisors)
        {
            hypervisor.Dispose();
        }
    }

    /// <summary>
    /// "auto" takes kvm when /dev/kvm opened, else simulated. Naming a backend that did not open fails start-up
    /// rather than silently running VMs on another one.
    /// </summary>
    private static string ChooseDefault(string configured, Dictionary<string, IHypervisor> backends)
    {
        if (configured == "auto")
        {
            return backends.ContainsKey(EnumMapping.KvmBackend) ? EnumMapping.KvmBackend : EnumMapping.SimulatedBackend;
        }

        return backends.ContainsKey(configured)
            ? configured
            : throw new StartupRefusedException(
                $"MemSvc:DefaultBackend is '{configured}', but that backend is not available in this server (available: {string.Join(", ", backends.Keys)}).", StartupExit.Configuration);
    }
}
