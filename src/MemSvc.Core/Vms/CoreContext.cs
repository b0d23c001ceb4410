using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using MemSvc.Core.Backends;
using MemSvc.Core.Errors;
using MemSvc.Core.Events;
using MemSvc.Core.Events.Files;
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
        Lost = new LostVms(options.TimeProvider, Logger);
        Journals = options.Journal.Enabled ? new JournalStore(options.Journal, Logger, lockNow: !options.TakingOver) : null;
    }

    public VmRegistry Registry { get; } = new();

    public BackendCatalog Backends { get; }

    /// <summary>The journal files, or null when journals live in memory only.</summary>
    public JournalStore? Journals { get; }

    /// <summary>VMs lost with an earlier process, read back from their journal files.</summary>
    public LostVms Lost { get; }

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

    /// <summary>
    /// The VM, checked for the caller's identity and ownership. A name that only a lost VM had answers NOT_FOUND
    /// VM_LOST rather than VM_NOT_FOUND, so that a client learns the VM died with an earlier process.
    /// </summary>
    public ManagedVm Find(CallerIdentity caller, string vmId)
    {
        CallerIdentity.Validate(caller);
        try
        {
            return Registry.Find(caller, vmId ?? string.Empty);
        }
        catch (CoreException e) when (e.Reason == ErrorReasons.VmNotFound && Lost.Find(caller, vmId ?? string.Empty) is { } lost)
        {
            throw CoreErrors.VmLost(lost.Id, lost.Uid, lost.Journal.NextSequence);
        }
    }

    /// <summary>The caller's live VM of that name, or null when it has none (lost ones are not VMs).</summary>
    public ManagedVm? TryFind(CallerIdentity caller, string vmId)
    {
        try
        {
            return Find(caller, vmId);
        }
        catch (CoreException e) when (e.Reason is ErrorReasons.VmNotFound or ErrorReasons.VmLost)
        {
            return null;
        }
    }

    public void SignalShutdown() => _shutdown.Cancel();

    public void Dispose()
    {
        Lost.Close();
        Journals?.Dispose();
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
