using System.Collections.Concurrent;
using MemSvc.Cli.Infrastructure;
using MemSvc.Cli.Output;
using MemSvc.Cli.Parsing;
using MemSvc.Client;
using MemSvc.Client.Events;
using MemSvc.Client.Orchestration;
using MemSvc.Contracts.V1;

namespace MemSvc.Cli.Demo;

/// <summary>
/// The live part of the demo: a watcher that narrates every event, an orchestrator that resolves every fault by
/// converting, the vCPUs started, and the wait until each has halted with its checks passed.
/// </summary>
internal sealed class DemoRun(MemSvcClient client, Narrator narrator, string vm, TimeSpan timeout)
{
    private static readonly VcpuState[] Finished = [VcpuState.Halted, VcpuState.Failed, VcpuState.Shutdown];

    private readonly ConcurrentDictionary<uint, VcpuStateChangedEvent> _final = new();
    private readonly TaskCompletionSource _allFinished = new(TaskCreationOptions.RunContinuationsAsynchronously);

    // The faults the watcher saw and those the orchestrator told of: the vCPU runs on as soon as its fault is
    // converted, so the last vCPU can halt before the orchestrator's call has returned and its line is printed; the
    // run ends once both the vCPUs and the narration are done.
    private readonly Lock _count = new();
    private int _announced;
    private int _resolved;

    /// <summary>Runs the vCPUs to the end; returns every event the watcher saw, in order.</summary>
    public async Task<IReadOnlyList<Event>> RunAsync(CancellationToken cancellationToken)
    {
        narrator.Step("Starting a watcher and an orchestrator that resolves every fault by converting");
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var seen = new List<Event>();
        var watcher = WatchAsync(seen, stop.Token);
        var orchestrator = new FaultOrchestrator(client, vm)
        {
            MaxConcurrency = 4,
            OnResolved = o =>
            {
                narrator.Detail(
                    $"  -> resolved fault {o.Fault.FaultId} ({(o.Fault.IsConversionRequest ? "conversion request" : "memory fault")} at {Units.Hex(o.Fault.Gpa)}) with {(o.Action is { } action ? EnumWords.Kebab(action) : o.Kind.ToString())}");
                Count(resolved: 1);
            },
        }
        .OnMemoryFault((_, _) => ValueTask.FromResult(FaultAction.Convert))
        .OnConversionRequest((_, _) => ValueTask.FromResult(FaultAction.Convert));
        var resolving = orchestrator.RunAsync(stop.Token);

        narrator.Step("Starting the vCPUs; each event as it happens:");
        for (uint vcpu = 0; vcpu < DemoPlan.VcpuCount; vcpu++)
        {
            await client.Vcpus.StartAsync(vm, vcpu, cancellationToken).ConfigureAwait(false);
        }

        var finished = await Task.WhenAny(_allFinished.Task, Task.Delay(timeout, cancellationToken), watcher, resolving).ConfigureAwait(false);
        cancellationToken.ThrowIfCancellationRequested();
        await stop.CancelAsync().ConfigureAwait(false);
        await watcher.ConfigureAwait(false);
        await resolving.ConfigureAwait(false);
        if (finished != _allFinished.Task)
        {
            throw new CheckFailedException($"the vCPUs did not all finish within {timeout}");
        }

        narrator.Step("Checking how the vCPUs ended");
        var failures = new List<string>();
        for (uint vcpu = 0; vcpu < DemoPlan.VcpuCount; vcpu++)
        {
            var state = await client.Vcpus.GetAsync(vm, vcpu, cancellationToken).ConfigureAwait(false);
            var reported = seen.Any(e => e.GuestReport is { } r && r.Vcpu == vcpu && r.Value == DemoPlan.ReportValue(vcpu));
            narrator.Detail($"vcpu {vcpu}: {EnumWords.Kebab(state.State)}, data checks {(state.State == VcpuState.Halted ? "passed" : "FAILED")}, reported {(reported ? Units.Hex(DemoPlan.ReportValue(vcpu)) : "nothing")}");
            if (state.State != VcpuState.Halted || !reported)
            {
                failures.Add($"vcpu {vcpu} ended {EnumWords.Kebab(state.State)} ({state.StateReason})");
            }
        }

        return failures.Count == 0 ? seen : throw new CheckFailedException(string.Join("; ", failures));
    }

    private async Task WatchAsync(List<Event> seen, CancellationToken cancellationToken)
    {
        try
        {
            var options = new WatchOptions
            {
                Vm = vm,
                StartSequence = 1,
                OnReconnecting = r => narrator.Detail($"(event stream lost; resuming from #{r.ResumeFrom})"),
            };
            await foreach (var e in client.Events.WatchAsync(options, cancellationToken).ConfigureAwait(false))
            {
                seen.Add(e);
                narrator.Detail($"#{e.Sequence} {EventLine.Body(e)}");
                if (e.VcpuStateChanged is { } change && Finished.Contains(change.State))
                {
                    _final[change.Vcpu] = change;
                }

                Count(announced: e.MemoryFault is not null || e.ConversionRequested is not null ? 1 : 0);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // The demo stops the watcher once the vCPUs finished.
        }
    }

    private void Count(int announced = 0, int resolved = 0)
    {
        lock (_count)
        {
            _announced += announced;
            _resolved += resolved;
            if (_final.Count == DemoPlan.VcpuCount && _resolved >= _announced)
            {
                _allFinished.TrySetResult();
            }
        }
    }
}
