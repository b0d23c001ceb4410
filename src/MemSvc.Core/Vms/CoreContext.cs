using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using MemSvc.Core.Backends;
using MemSvc.Core.Events;
using MemSvc.Core.Identity;
using MemSvc.Core.Logging;
using MemSvc.Core.Memory;
using MemSvc.Core.Options;
using MemSvc.Core.Telemetry;
using Microsoft.Extensions.Logging;

namespace MemSvc.Core.Vms;

/// <summary>What every operation class shares: the registry, the backends, the options, the meter, the logger, the shutdown signal.</summary>
internal sealed class CoreContext : IDisposable
{
    private readonly CancellationTokenSource _shutdown = new();
    private readonly ConcurrentDictionary<string, JournalBudget> _journalBudgets = new(StringComparer.Ordinal);

    public CoreContext(BackendCatalog backends, CoreOptions options, ILoggerFactory loggerFactory)
    {
        Backends = backends;
        Options = options;
        Metrics = new CoreMetrics(MeasureMemory, MeasureJournals);
        Logger = loggerFactory.CreateLogger(CoreLog.Category);
        Ledger = new GuestMemoryLedger(options.Quotas, options.HostMemory.Cap());
    }

    public VmRegistry Registry { get; } = new();

    public BackendCatalog Backends { get; }

    public CoreOptions Options { get; }

    public CoreMetrics Metrics { get; }

    /// <summary>Guest memory held by owner and in all, against the quotas and the host-wide cap.</summary>
    public GuestMemoryLedger Ledger { get; }

    public ILogger Logger { get; }

    /// <summary>The journal budget <paramref name="owner"/>'s VMs share (one small object per owner that ever had a VM).</summary>
    public JournalBudget JournalBudgetOf(string owner) =>
        _journalBudgets.GetOrAdd(owner, static (_, options) => new JournalBudget(options.Quotas.MaxJournalEventsPerOwner, options.JournalRetentionFloor), Options);

    /// <summary>Cancelled when the manager shuts down: multi-VM watches end on it.</summary>
    public CancellationToken ShutdownToken => _shutdown.Token;

    /// <summary>The VM, checked for the caller's identity and ownership.</summary>
    public ManagedVm Find(CallerIdentity caller, string vmId)
    {
        CallerIdentity.Validate(caller);
        return Registry.Find(caller, vmId ?? string.Empty);
    }

    public void SignalShutdown() => _shutdown.Cancel();

    public void Dispose()
    {
        _shutdown.Dispose();
        Metrics.Dispose();
    }

    private IEnumerable<Measurement<long>> MeasureMemory()
    {
        var measurements = new List<Measurement<long>>();
        foreach (var vm in Registry.All())
        {
            var (privateBytes, sharedBytes) = vm.MemoryBytes();
            measurements.Add(new((long)privateBytes, new("vm", vm.Id), new("vm_uid", vm.Uid), new("attribute", "private")));
            measurements.Add(new((long)sharedBytes, new("vm", vm.Id), new("vm_uid", vm.Uid), new("attribute", "shared")));
        }

        return measurements;
    }

    private IEnumerable<Measurement<long>> MeasureJournals() =>
        [.. Registry.All().Select(vm => new Measurement<long>(vm.Journal.HeldCount, new("vm", vm.Id), new("vm_uid", vm.Uid)))];
}
