using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using MemSvc.Core.Handoff;
using MemSvc.Core.Telemetry;
using MemSvc.Core.Vms;
using MemSvc.Hypervisor;
using static MemSvc.Core.Tests.Support.Core;

namespace MemSvc.Core.Tests.Telemetry;

/// <summary>
/// The handoff rehearsal a server runs before a handoff plays real operations on a scratch VM: an operator must never
/// see that VM, in a metric (gauges included, which are read while it lives) or a span, and the caller's own flow
/// must not stay silenced after it.
/// </summary>
public class HandoffRehearsalTests
{
    // The scratch VM that faults, and the idle ones beside it ("handoff-rehearsal-idle-N").
    private const string ScratchVm = "handoff-rehearsal";

    [Fact]
    public async Task A_rehearsal_plays_a_whole_handoff_and_leaves_no_measurement_or_span_of_its_scratch_VM()
    {
        var measured = new ConcurrentBag<string>();
        var spans = new ConcurrentBag<string>();
        using var meters = new MeterListener();
        meters.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == CoreActivities.MeterName)
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        void Record<T>(Instrument instrument, T value, ReadOnlySpan<KeyValuePair<string, object?>> tags, object? state)
        {
            foreach (var tag in tags)
            {
                if (tag.Key == "vm" && tag.Value is string vm && vm.StartsWith(ScratchVm, StringComparison.Ordinal))
                {
                    measured.Add(instrument.Name);
                }
            }
        }

        meters.SetMeasurementEventCallback<long>(Record);
        meters.SetMeasurementEventCallback<double>(Record);
        meters.Start();
        using var activities = new ActivityListener
        {
            ShouldListenTo = source => source.Name == CoreActivities.SourceName,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = activity =>
            {
                if (activity.GetTagItem("vm") is string vm && vm.StartsWith(ScratchVm, StringComparison.Ordinal))
                {
                    spans.Add(activity.OperationName);
                }
            },
        };
        ActivitySource.AddActivityListener(activities);

        // Gauges are read while the scratch managers live: collected from another thread all along.
        using var stop = new CancellationTokenSource();
        var collecting = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                meters.RecordObservableInstruments();
                await Task.Delay(1, CancellationToken.None);
            }
        }, Ct);
        var took = HandoffRehearsal.Run();
        await stop.CancelAsync();
        await collecting;

        Assert.True(took > TimeSpan.Zero);
        Assert.Empty(measured);
        Assert.Empty(spans);

        // The same operations outside a rehearsal are measured and traced: the listeners above would have seen them.
        await using var manager = Manager();
        manager.Vms.CreateVm(Alice, new CreateVmRequest { VmId = ScratchVm, VmType = VmType.SwProtected, VcpuCount = 1 });
        meters.RecordObservableInstruments();
        Assert.Contains("memsvc.core.create_vm", spans);
        Assert.NotEmpty(measured);
    }
}
