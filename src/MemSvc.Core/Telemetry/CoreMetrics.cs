using System.Diagnostics;
using System.Diagnostics.Metrics;
using MemSvc.Core.Events;
using MemSvc.Core.Faults;

namespace MemSvc.Core.Telemetry;

/// <summary>
/// A VM manager's handle on the process-wide Meter "MemSvc.Core". The Meter and its instruments are static: one
/// per process, never disposed, so that any number of managers (tests start many) feed the same streams and a
/// MeterProvider never sees its Meter go away under it. Recording is a tag-struct call, cheap enough for the
/// fault path. Each live manager adds its VMs to the gauges until it is disposed. Every VM series carries
/// the VM's uid beside its name: names are per owner, so two owners' VMs may share one name, and without the uid
/// their series would merge.
/// </summary>
internal sealed class CoreMetrics : IDisposable
{
    public const string MeterName = "MemSvc.Core";

    private static readonly Meter Meter = new(MeterName);
    private static readonly Counter<long> Faults = Meter.CreateCounter<long>("memsvc.core.faults", "{fault}", "Memory faults by VM and the direction the access wanted");
    private static readonly Counter<long> Conversions = Meter.CreateCounter<long>("memsvc.core.conversions", "{conversion}", "Conversions applied");
    private static readonly Histogram<double> ConversionDuration = Meter.CreateHistogram<double>("memsvc.core.conversion.duration", "s", "Time to apply one conversion");
    private static readonly Histogram<double> ResolutionLatency = Meter.CreateHistogram<double>("memsvc.core.fault.resolution.duration", "s", "Time from a fault to its resolution");
    private static readonly Counter<long> VcpuExits = Meter.CreateCounter<long>("memsvc.core.vcpu.exits", "{exit}", "vCPU exits by reason");
    private static readonly Counter<long> EventsAppended = Meter.CreateCounter<long>("memsvc.core.events.appended", "{event}", "Journal events appended");
    private static readonly UpDownCounter<long> ActiveWatchers = Meter.CreateUpDownCounter<long>("memsvc.core.watchers.active", "{watcher}", "Open event watches");
    private static readonly Histogram<long> WatcherLagEvents = Meter.CreateHistogram<long>("memsvc.core.watcher.lag", "{event}", "Events appended but not yet read by a watcher, each time it reads");
    private static readonly ManagersGauge Memory = new(Meter, "memsvc.core.memory.bytes", "By", "Memslot bytes per VM by attribute (private or shared)");
    private static readonly ManagersGauge JournalEvents = new(Meter, "memsvc.core.journal.events", "{event}", "Events each VM's journal holds (its owner's budget may keep it below the retention)");

    // The journal never drops: a slow watcher falls behind and is told. The instrument says so explicitly.
    private static readonly ObservableCounter<long> EventsDropped = Meter.CreateObservableCounter("memsvc.core.events.dropped", static () => 0L, "{event}", "Journal events dropped (always 0)");

    private readonly Func<IEnumerable<Measurement<long>>> _memoryBytes;
    private readonly Func<IEnumerable<Measurement<long>>> _journalEvents;
    private int _disposed;

    // A rehearsal's scratch manager (made inside Rehearsal.Run) records nothing.
    private readonly bool _silent = Rehearsal.On;

    /// <param name="memoryBytes">This manager's VMs' private and shared bytes, read at each collection while the manager lives.</param>
    /// <param name="journalEvents">This manager's VMs' held journal events, likewise.</param>
    public CoreMetrics(Func<IEnumerable<Measurement<long>>> memoryBytes, Func<IEnumerable<Measurement<long>>> journalEvents)
    {
        _memoryBytes = memoryBytes;
        _journalEvents = journalEvents;
        if (_silent)
        {
            _disposed = 1;
            return;
        }

        Memory.Add(_memoryBytes);
        JournalEvents.Add(_journalEvents);
    }

    public void Fault(string vmId, string vmUid, bool toPrivate)
    {
        if (!_silent)
        {
            Faults.Add(1, new("vm", vmId), new("vm_uid", vmUid), new("direction", Direction(toPrivate)));
        }
    }

    public void Conversion(string vmId, string vmUid, bool toPrivate, ConversionInitiator initiator, TimeSpan duration)
    {
        if (_silent)
        {
            return;
        }

        var tags = new TagList { { "vm", vmId }, { "vm_uid", vmUid }, { "direction", Direction(toPrivate) }, { "initiator", Name(initiator) } };
        Conversions.Add(1, tags);
        ConversionDuration.Record(duration.TotalSeconds, tags);
    }

    public void FaultResolved(string vmId, string vmUid, FaultAction action, bool byFallback, TimeSpan latency)
    {
        if (_silent)
        {
            return;
        }

        var tags = new TagList { { "vm", vmId }, { "vm_uid", vmUid }, { "action", Name(action) }, { "by_fallback", byFallback } };
        ResolutionLatency.Record(latency.TotalSeconds, tags);
    }

    public void VcpuExit(string vmId, string vmUid, string reason)
    {
        if (!_silent)
        {
            VcpuExits.Add(1, new("vm", vmId), new("vm_uid", vmUid), new("reason", reason));
        }
    }

    public void EventAppended(string vmId, string vmUid, EventKind kind)
    {
        if (!_silent)
        {
            EventsAppended.Add(1, new("vm", vmId), new("vm_uid", vmUid), new("kind", Name(kind)));
        }
    }

    public void WatcherOpened()
    {
        if (!_silent)
        {
            ActiveWatchers.Add(1);
        }
    }

    public void WatcherClosed()
    {
        if (!_silent)
        {
            ActiveWatchers.Add(-1);
        }
    }

    public void WatcherLag(string vmId, string vmUid, long events)
    {
        if (!_silent)
        {
            WatcherLagEvents.Record(events, new("vm", vmId), new("vm_uid", vmUid));
        }
    }

    /// <summary>Takes this manager's VMs out of the gauges; the instruments stay for the others.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            Memory.Remove(_memoryBytes);
            JournalEvents.Remove(_journalEvents);
        }
    }

    internal static string Direction(bool toPrivate) => toPrivate ? "private" : "shared";

    // Constant strings, so that tagging allocates nothing on the fault path.
    private static string Name(ConversionInitiator initiator) => initiator switch
    {
        ConversionInitiator.Auto => "auto",
        ConversionInitiator.Orchestrator => "orchestrator",
        ConversionInitiator.Api => "api",
        ConversionInitiator.Fallback => "fallback",
        _ => "unspecified",
    };

    private static string Name(FaultAction action) => action switch
    {
        FaultAction.Convert => "convert",
        FaultAction.Retry => "retry",
        FaultAction.Fail => "fail",
        _ => "unspecified",
    };

    private static string Name(EventKind kind) => kind switch
    {
        EventKind.MemoryFault => "memory_fault",
        EventKind.ConversionRequested => "conversion_requested",
        EventKind.ConversionApplied => "conversion_applied",
        EventKind.FaultResolved => "fault_resolved",
        EventKind.VcpuStateChanged => "vcpu_state_changed",
        EventKind.GuestReport => "guest_report",
        EventKind.VmLost => "vm_lost",
        _ => "unspecified",
    };
}
