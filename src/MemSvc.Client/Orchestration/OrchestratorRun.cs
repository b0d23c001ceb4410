using MemSvc.Client.Errors;
using MemSvc.Client.Events;
using MemSvc.Contracts.V1;
using Microsoft.Extensions.Logging;

namespace MemSvc.Client.Orchestration;

/// <summary>
/// One <see cref="FaultOrchestrator.RunAsync"/>: the list-then-watch loop, the faults in flight, and the ledger
/// that keeps a fault from reaching the handler twice.
/// </summary>
internal sealed class OrchestratorRun : IAsyncDisposable
{
    // The faults, their resolutions (to know when a fault is over), and nothing else: bookmarks keep the positions
    // of the skipped events current.
    private static readonly EventKind[] Kinds = [EventKind.MemoryFault, EventKind.ConversionRequested, EventKind.FaultResolved];

    private readonly FaultOrchestrator _config;
    private readonly MemSvcClient _client;
    private readonly string? _vm;
    private readonly OrchestratorCounters _counters;
    private readonly CancellationTokenSource _stop;
    private readonly SemaphoreSlim _slots;
    private readonly FaultLedger _ledger = new();
    private readonly Lock _lock = new();
    private readonly HashSet<Task> _inFlight = [];

    public OrchestratorRun(FaultOrchestrator config, MemSvcClient client, string? vm, OrchestratorCounters counters, CancellationToken cancellationToken)
    {
        _config = config;
        _client = client;
        _vm = vm;
        _counters = counters;
        _stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        _slots = new SemaphoreSlim(config.MaxConcurrency, config.MaxConcurrency);
    }

    public async Task RunAsync()
    {
        var watch = new WatchOptions { Vm = _vm, Kinds = Kinds, OnReconnecting = _config.OnReconnecting };
        Exception? failure = null;
        try
        {
            await foreach (var item in _client.Events.Watch(watch, BeginAsync, beginEachConnect: true, _stop.Token).ConfigureAwait(false))
            {
                if (item.Event is { } e)
                {
                    if (FaultContext.Pending(e) is { } fault)
                    {
                        await DispatchAsync(fault).ConfigureAwait(false);
                    }
                    else if (e.FaultResolved is { } resolved)
                    {
                        _ledger.Resolved(e.VmUid, resolved.FaultId);
                    }
                }
                else if (item.VmEnded is { } ended)
                {
                    _ledger.Ended(ended.VmUid);
                    OrchestratorLog.VmEnded(_config.Logger, ended.Vm, ended.VmUid, ended.Reason.ToString());
                    _config.OnVmEnded?.Invoke(ended);
                }
            }
        }
        catch (OperationCanceledException) when (_stop.IsCancellationRequested)
        {
        }
        catch (Exception e)
        {
            failure = e;
        }

        // The resolutions in flight end before the run does: cancelled when it was, else answered.
        if (failure is not null)
        {
            await _stop.CancelAsync().ConfigureAwait(false);
        }

        await Task.WhenAll(Snapshot()).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        if (failure is not null)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(failure);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        await Task.WhenAll(Snapshot()).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        _stop.Dispose();
        _slots.Dispose();
    }

    /// <summary>List, hand the pending faults new to this run to the handler, and give the watch its positions.</summary>
    private async Task<WatchPositions> BeginAsync(CancellationToken cancellationToken)
    {
        var listing = await _client.Events.ListPendingFaultsAsync(_vm, cancellationToken).ConfigureAwait(false);
        _counters.Listed();
        var pending = new HashSet<(string, ulong)>();
        var faults = new List<FaultContext>(listing.Faults.Count);
        foreach (var listed in listing.Faults)
        {
            if (FaultContext.Pending(listed.Event) is { } fault)
            {
                pending.Add((fault.VmUid, fault.FaultId));
                faults.Add(fault);
            }
        }

        _ledger.Prune(listing.Positions.Select(p => p.VmUid).ToHashSet(StringComparer.Ordinal), pending);
        var fresh = 0;
        foreach (var fault in faults)
        {
            fresh += await DispatchAsync(fault).ConfigureAwait(false) ? 1 : 0;
        }

        OrchestratorLog.Listed(_config.Logger, listing.Positions.Count, faults.Count, fresh);
        return WatchPositions.From(listing.Positions);
    }

    /// <summary>Hands a fault to the handler unless this run already did; waits for a free slot first.</summary>
    private async Task<bool> DispatchAsync(FaultContext fault)
    {
        if (!_ledger.TryClaim(fault.VmUid, fault.FaultId))
        {
            return false;
        }

        await _slots.WaitAsync(_stop.Token).ConfigureAwait(false);
        _counters.Handled();
        var task = HandleAsync(fault);
        lock (_lock)
        {
            _inFlight.Add(task);
        }

        _ = task.ContinueWith(
            (done, state) =>
            {
                var run = (OrchestratorRun)state!;
                lock (run._lock)
                {
                    run._inFlight.Remove(done);
                }
            },
            this,
            CancellationToken.None,
            TaskContinuationOptions.ExecuteSynchronously,
            TaskScheduler.Default);
        return true;
    }

    private async Task HandleAsync(FaultContext fault)
    {
        try
        {
            FaultAction action;
            try
            {
                action = await _config.DecideAsync(fault, _stop.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (_stop.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                OrchestratorLog.HandlerFailed(_config.Logger, e, fault.FaultId, fault.Vm, fault.VmUid, fault.Deadline);
                Report(new FaultOutcome(fault, FaultOutcomeKind.HandlerFailed, null, null, e));
                return;
            }

            if (await FaultResolution.ResolveAsync(_client, fault, action, _stop.Token).ConfigureAwait(false) is { } outcome)
            {
                if (outcome.Kind == FaultOutcomeKind.ResolveFailed)
                {
                    OrchestratorLog.ResolveFailed(_config.Logger, outcome.Error!, fault.FaultId, fault.Vm, fault.VmUid, fault.Deadline);
                }

                Report(outcome);
            }
        }
        finally
        {
            _ledger.Finish(fault.VmUid, fault.FaultId);
            _slots.Release();
        }
    }

    private void Report(FaultOutcome outcome)
    {
        _counters.Ended(outcome.Kind);
        try
        {
            _config.OnResolved?.Invoke(outcome);
        }
        catch (Exception e)
        {
            // The caller's progress callback must not take the run down; it is the caller's bug to see in the log.
            OrchestratorLog.HandlerFailed(_config.Logger, e, outcome.Fault.FaultId, outcome.Fault.Vm, outcome.Fault.VmUid, outcome.Fault.Deadline);
        }
    }

    private Task[] Snapshot()
    {
        lock (_lock)
        {
            return [.. _inFlight];
        }
    }
}
