using System.Diagnostics;
using System.Diagnostics.Metrics;
using MemSvc.Core.Events;
using MemSvc.Core.Faults;

namespace MemSvc.Core.Telemetry;

/// <summary>
/// The Meter "MemSvc.Core" of one VM manager. Instruments are created once; recording is a tag-struct call,
/// cheap enough for the fault path.
/// </summary>
internal sealed class CoreMetrics : IDisposable
{
    public const string MeterName = "MemSvc.Core";

    private readonly Meter _meter;
    private readonly Counter<long> _faults;
    private readonly Counter<long> _conversions;
    private readonly Histogram<double> _conversionDuration;
    private readonly Histogram<double> _resolutionLatency;
    private readonly Counter<long> _vcpuExits;
    private readonly Counter<long> _eventsAppended;
    private readonly UpDownCounter<long> _activeWatchers;
    private readonly Histogram<long> _watcherLag;

    public CoreMetrics(Func<IEnumerable<Measurement<long>>> memoryBytes)
    {
        _meter = new Meter(MeterName);
        _faults = _meter.CreateCounter<long>("memsvc.core.faults", "{fault}", "Memory faults by VM and the direction the access wanted");
        _conversions = _meter.CreateCounter<long>("memsvc.core.conversions", "{conversion}", "Conversions applied");
        _conversionDuration = _meter.CreateHistogram<double>("memsvc.core.conversion.duration", "s", "Time to apply one conversion");
        _resolutionLatency = _meter.CreateHistogram<double>("memsvc.core.fault.resolution.duration", "s", "Time from a fault to its resolution");
        _vcpuExits = _meter.CreateCounter<long>("memsvc.core.vcpu.exits", "{exit}", "vCPU exits by reason");
        _eventsAppended = _meter.CreateCounter<long>("memsvc.core.events.appended", "{event}", "Journal events appended");
        _activeWatchers = _meter.CreateUpDownCounter<long>("memsvc.core.watchers.active", "{watcher}", "Open event watches");
        _watcherLag = _meter.CreateHistogram<long>("memsvc.core.watcher.lag", "{event}", "Events appended but not yet read by a watcher, each time it reads");

        // The journal never drops: a slow watcher falls behind and is told. The instrument says so explicitly.
        _meter.CreateObservableCounter("memsvc.core.events.dropped", static () => 0L, "{event}", "Journal events dropped (always 0)");
        _meter.CreateObservableGauge("memsvc.core.memory.bytes", memoryBytes, "By", "Memslot bytes per VM by attribute (private or shared)");
    }

    public void Fault(string vmId, bool toPrivate) =>
        _faults.Add(1, new("vm", vmId), new("direction", Direction(toPrivate)));

    public void Conversion(string vmId, bool toPrivate, ConversionInitiator initiator, TimeSpan duration)
    {
        var tags = new TagList { { "vm", vmId }, { "direction", Direction(toPrivate) }, { "initiator", Name(initiator) } };
        _conversions.Add(1, tags);
        _conversionDuration.Record(duration.TotalSeconds, tags);
    }

    public void FaultResolved(string vmId, FaultAction action, bool byFallback, TimeSpan latency) =>
        _resolutionLatency.Record(latency.TotalSeconds, new("vm", vmId), new("action", Name(action)), new("by_fallback", byFallback));

    public void VcpuExit(string vmId, string reason) =>
        _vcpuExits.Add(1, new("vm", vmId), new("reason", reason));

    public void EventAppended(string vmId, EventKind kind) =>
        _eventsAppended.Add(1, new("vm", vmId), new("kind", Name(kind)));

    public void WatcherOpened() => _activeWatchers.Add(1);

    public void WatcherClosed() => _activeWatchers.Add(-1);

    public void WatcherLag(string vmId, long events) => _watcherLag.Record(events, new KeyValuePair<string, object?>("vm", vmId));

    public void Dispose() => _meter.Dispose();

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
        _ => "unspecified",
    };
}
