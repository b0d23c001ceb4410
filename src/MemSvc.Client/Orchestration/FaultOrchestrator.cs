using Grpc.Core;
using MemSvc.Client.Errors;
using MemSvc.Client.Events;
using MemSvc.Contracts.V1;

namespace MemSvc.Client.Orchestration;

/// <summary>
/// Resolves a VM's faults (ORCHESTRATOR policy): watches its memory faults and conversion requests, asks the
/// registered handler what to do (CONVERT / RETRY / FAIL) and resolves each with ResolveFault, with at most
/// <see cref="MaxConcurrency"/> resolutions in flight, until cancelled.
/// </summary>
public sealed class FaultOrchestrator
{
    private static readonly EventKind[] FaultKinds = [EventKind.MemoryFault, EventKind.ConversionRequested];

    private readonly MemSvcClient _client;
    private readonly string _vm;
    private Func<FaultContext, CancellationToken, ValueTask<FaultAction>> _onMemoryFault = (_, _) => ValueTask.FromResult(FaultAction.Convert);
    private Func<FaultContext, CancellationToken, ValueTask<FaultAction>> _onConversionRequest = (_, _) => ValueTask.FromResult(FaultAction.Convert);

    public FaultOrchestrator(MemSvcClient client, string vm)
    {
        ArgumentNullException.ThrowIfNull(client);
        _client = client;
        _vm = ResourceNames.Vm(vm);
    }

    /// <summary>Most resolutions (handler plus ResolveFault) running at once.</summary>
    public int MaxConcurrency { get; init; } = 8;

    /// <summary>First sequence to look at; 1 (the default) also picks up faults raised before the orchestrator started.</summary>
    public ulong StartSequence { get; init; } = 1;

    /// <summary>Told after each fault is resolved (by this orchestrator or, first, by someone else); called from several resolutions at once.</summary>
    public Action<FaultOutcome>? OnResolved { get; init; }

    /// <summary>Passed on to the watch: told when its stream is lost and reopened.</summary>
    public Action<WatchReconnect>? OnReconnecting { get; init; }

    /// <summary>Decides memory faults (KVM_EXIT_MEMORY_FAULT); without a handler they are converted.</summary>
    public FaultOrchestrator OnMemoryFault(Func<FaultContext, CancellationToken, ValueTask<FaultAction>> handler)
    {
        ArgumentNullException.ThrowIfNull(handler);
        _onMemoryFault = handler;
        return this;
    }

    /// <summary>Decides the guest's conversion requests (KVM_HC_MAP_GPA_RANGE); without a handler they are converted.</summary>
    public FaultOrchestrator OnConversionRequest(Func<FaultContext, CancellationToken, ValueTask<FaultAction>> handler)
    {
        ArgumentNullException.ThrowIfNull(handler);
        _onConversionRequest = handler;
        return this;
    }

    /// <summary>
    /// Resolves faults until <paramref name="cancellationToken"/> is cancelled (then completes without throwing).
    /// A handler or server failure stops it and is thrown, after the resolutions in flight end.
    /// </summary>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        if (MaxConcurrency < 1)
        {
            throw new InvalidOperationException("MaxConcurrency must be at least 1.");
        }

        using var failed = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        using var slots = new SemaphoreSlim(MaxConcurrency, MaxConcurrency);
        var inFlight = new List<Task>();
        Exception? watchFailure = null;
        var watch = new WatchOptions { Vm = _vm, StartSequence = StartSequence, Kinds = FaultKinds, OnReconnecting = OnReconnecting };
        try
        {
            await foreach (var item in _client.Events.WatchAsync(watch, failed.Token).ConfigureAwait(false))
            {
                if (FaultContext.From(item) is not { } fault)
                {
                    continue;
                }

                await slots.WaitAsync(failed.Token).ConfigureAwait(false);
                inFlight.RemoveAll(t => t.IsCompleted);
                inFlight.Add(ResolveOneAsync(fault, slots, failed));
            }
        }
        catch (OperationCanceledException) when (failed.IsCancellationRequested)
        {
            // Cancelled by the caller, or by a resolution that failed: that failure, if any, is thrown below.
        }
        catch (Exception e)
        {
            // The watch itself failed (compaction, a server error): stop the resolutions before reporting it.
            watchFailure = e;
            await failed.CancelAsync().ConfigureAwait(false);
        }

        // The resolutions in flight end before the semaphore they release goes away.
        await Task.WhenAll(inFlight).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        var failure = watchFailure ?? inFlight
            .Where(t => t.IsFaulted)
            .SelectMany(t => t.Exception!.InnerExceptions)
            .FirstOrDefault(e => e is not OperationCanceledException);
        if (failure is not null)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(failure);
        }
    }

    private async Task ResolveOneAsync(FaultContext fault, SemaphoreSlim slots, CancellationTokenSource failed)
    {
        try
        {
            var handler = fault.IsConversionRequest ? _onConversionRequest : _onMemoryFault;
            var action = await handler(fault, failed.Token).ConfigureAwait(false);
            var response = await ResolveAsync(fault, action, failed.Token).ConfigureAwait(false);
            OnResolved?.Invoke(new FaultOutcome(fault, action, response));
        }
        catch (Exception) when (!failed.IsCancellationRequested)
        {
            // Stop watching; RunAsync rethrows this resolution's failure once the others end.
            await failed.CancelAsync().ConfigureAwait(false);
            throw;
        }
        finally
        {
            slots.Release();
        }
    }

    /// <summary>
    /// ResolveFault, retried here on UNAVAILABLE only, where the SDK itself never retries it: an ALREADY_RESOLVED on
    /// the retry means the lost attempt (or a replay from sequence 1) already did it, which is success.
    /// </summary>
    private async Task<ResolveFaultResponse?> ResolveAsync(FaultContext fault, FaultAction action, CancellationToken cancellationToken)
    {
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                return await _client.Events.ResolveFaultAsync(_vm, fault.FaultId, action, cancellationToken).ConfigureAwait(false);
            }
            catch (MemSvcException e) when (e.Reason is "FAULT_ALREADY_RESOLVED" or "FAULT_NOT_FOUND")
            {
                return null;
            }
            catch (MemSvcException e) when (e.StatusCode == StatusCode.Unavailable && attempt < _client.Options.MaxRetryAttempts)
            {
                await Task.Delay(_client.Options.RetryBaseDelay * (1 << attempt), cancellationToken).ConfigureAwait(false);
            }
        }
    }
}
