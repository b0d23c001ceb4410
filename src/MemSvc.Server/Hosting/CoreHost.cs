using MemSvc.Core.Backends;
using MemSvc.Core.Options;
using MemSvc.Core.Vms;
using MemSvc.Hypervisor;
using MemSvc.Hypervisor.Kvm;
using MemSvc.Hypervisor.Simulated;
using MemSvc.Server.Handoff;
using MemSvc.Server.Mapping;
using MemSvc.Server.Telemetry;
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
    private readonly Takeover _takeover;

    public CoreHost(IOptions<MemSvcOptions> options, ILogger<CoreHost> logger, ILoggerFactory loggerFactory, IEnumerable<IBackendDecorator> decorators, IHostMemory hostMemory, ServerInstance instance, Takeover takeover)
    {
        _logger = logger;
        _takeover = takeover;
        var settings = options.Value;
        _hypervisors = [new SimulatedHypervisor(new SimulatedHypervisorOptions { Profile = SimulatedHostProfile.ByName(settings.Simulated.HostProfile) })];
        if (!settings.OpenKvm)
        {
            KvmUnavailableReason = "MemSvc:OpenKvm is false";
            ServerLog.KvmUnavailable(logger, KvmUnavailableReason);
        }
        else if (KvmHypervisor.TryOpen(out var kvm, out var reason))
        {
            _hypervisors.Add(kvm);
        }
        else
        {
            KvmUnavailableReason = reason;
        }

        _hypervisors = [.. _hypervisors.Select(h => decorators.Aggregate(h, (inner, decorator) => decorator.Decorate(inner)))];
        var backends = _hypervisors.ToDictionary(h => h.Capabilities.Backend, h => h, StringComparer.Ordinal);
        var defaultBackend = ChooseDefault(settings.DefaultBackend, backends, KvmUnavailableReason);
        if (settings.OpenKvm && KvmUnavailableReason is { } notUsed)
        {
            ServerLog.KvmNotChosen(logger, notUsed);
        }

        DefaultBackend = defaultBackend;
        BackendMetrics.Publish(backends.Keys, defaultBackend);
        foreach (var (name, hypervisor) in backends)
        {
            ServerLog.BackendReady(logger, name, hypervisor.Capabilities.KernelVersion, defaultBackend);
        }

        try
        {
            Manager = new VmManager(
                new BackendCatalog(backends, defaultBackend),
                new CoreOptions
                {
                    JournalCapacity = settings.JournalRetention,
                    DefaultResolutionTimeout = settings.ResolutionTimeout,
                    MaxResolutionTimeout = MemSvcOptionsValidator.MaxResolutionTimeout,
                    Quotas = settings.Quotas,
                    HostMemory = settings.HostMemory with { Source = hostMemory },
                    Journal = settings.Journal with { InstanceId = instance.Id },
                    TakingOver = settings.Handoff.TakeOver,
                },
                loggerFactory);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // The journal directory (the only file Core opens at start) cannot be made, locked or read.
            throw new StartupRefusedException($"MemSvc:Journal:Directory '{settings.Journal.Directory}' cannot be used: {e.Message}", StartupExit.Configuration);
        }

        try
        {
            // Before anything listens: the VMs of the server this one takes over from (when told to) are adopted
            // here, and that server has let go of them, when this returns.
            takeover.Run(Manager);
        }
        catch
        {
            Manager.DisposeAsync().AsTask().GetAwaiter().GetResult();
            throw;
        }

        // The pause ends when the vCPUs are let go; the first of them may have the core before this thread's next line.
        var thawing = DateTimeOffset.UtcNow;
        Manager.ThawVcpus();
        takeover.Resumed(thawing);
    }

    public VmManager Manager { get; }

    /// <summary>The backend VMs get when CreateVm names none: what GetHostInfo, the health check and a metric report.</summary>
    public string DefaultBackend { get; }

    /// <summary>Why the kvm backend is not there (open(2)'s error and its fix, or the configuration); null when it is.</summary>
    public string? KvmUnavailableReason { get; }

    /// <summary>
    /// Before Kestrel starts (hosted services start first): a server taken over from has exited, its listeners free.
    /// Its vCPUs run here meanwhile.
    /// </summary>
    public Task StartAsync(CancellationToken cancellationToken)
    {
        _takeover.AwaitOldExit();
        return Task.CompletedTask;
    }

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
    /// "auto" takes kvm when /dev/kvm opened, else simulated. Naming a backend that did not open fails start-up,
    /// with the reason and its fix, rather than silently running VMs on another one.
    /// </summary>
    private static string ChooseDefault(string configured, Dictionary<string, IHypervisor> backends, string? kvmUnavailable)
    {
        if (configured == "auto")
        {
            return backends.ContainsKey(EnumMapping.KvmBackend) ? EnumMapping.KvmBackend : EnumMapping.SimulatedBackend;
        }

        if (backends.ContainsKey(configured))
        {
            return configured;
        }

        var why = configured == EnumMapping.KvmBackend && kvmUnavailable is not null ? $": {kvmUnavailable}" : $" (available: {string.Join(", ", backends.Keys)})";
        throw new StartupRefusedException($"MemSvc:DefaultBackend is '{configured}', but that backend is not available in this server{why}.", StartupExit.Configuration);
    }
}
