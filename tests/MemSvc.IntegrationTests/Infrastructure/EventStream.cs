using System.Threading.Channels;
using Grpc.Core;
using MemSvc.Contracts.V1;

namespace MemSvc.IntegrationTests.Infrastructure;

/// <summary>
/// A watcher as an orchestrator writes one: WatchEvents from a sequence, and when the stream breaks, a new
/// WatchEvents from the last sequence seen plus one (the contract's exactly-once resume). Events are queued
/// for the test to take one by one.
/// </summary>
internal sealed class EventStream : IAsyncDisposable
{
    private readonly Channel<Event> _events = Channel.CreateUnbounded<Event>();
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _pump;
    private int _reconnects;

    public EventStream(EventService.EventServiceClient client, string vm, ulong startSequence)
    {
        _pump = Task.Run(() => PumpAsync(client, vm, startSequence));
    }

    /// <summary>How often the stream broke and was opened again from the next sequence.</summary>
    public int Reconnects => Volatile.Read(ref _reconnects);

    /// <summary>The next event, or a failure naming what was being waited for.</summary>
    public async Task<Event> NextAsync(TimeSpan timeout, string waitingFor)
    {
        using var cancellation = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        cancellation.CancelAfter(timeout);
        try
        {
            return await _events.Reader.ReadAsync(cancellation.Token);
        }
        catch (OperationCanceledException) when (!TestContext.Current.CancellationToken.IsCancellationRequested)
        {
            throw new TimeoutException($"no event within {timeout.TotalSeconds:F0} s while waiting for {waitingFor}");
        }
    }

    /// <summary>The next <paramref name="count"/> events.</summary>
    public async Task<List<Event>> TakeAsync(int count, TimeSpan timeout, string waitingFor)
    {
        var events = new List<Event>(count);
        while (events.Count < count)
        {
            events.Add(await NextAsync(timeout, $"{waitingFor} ({events.Count} of {count} so far)"));
        }

        return events;
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        try
        {
            await _pump;
        }
        catch (OperationCanceledException)
        {
        }

        _stop.Dispose();
    }

    private async Task PumpAsync(EventService.EventServiceClient client, string vm, ulong startSequence)
    {
        var next = startSequence;
        try
        {
            while (!_stop.IsCancellationRequested)
            {
                try
                {
                    using var call = client.WatchEvents(new WatchEventsRequest { Vm = vm, StartSequence = next }, cancellationToken: _stop.Token);
                    await foreach (var response in call.ResponseStream.ReadAllAsync(_stop.Token))
                    {
                        next = response.Event.Sequence + 1;
                        await _events.Writer.WriteAsync(response.Event, _stop.Token);
                    }
                }
                catch (RpcException e) when (e.StatusCode is StatusCode.Unavailable or StatusCode.Internal or StatusCode.Cancelled
                                             && !_stop.IsCancellationRequested)
                {
                    // The connection went away (a paused or restarting server): resume where the stream stopped.
                }

                if (!_stop.IsCancellationRequested)
                {
                    Interlocked.Increment(ref _reconnects);
                    await Task.Delay(TimeSpan.FromMilliseconds(200), _stop.Token);
                }
            }
        }
        catch (Exception e) when (e is OperationCanceledException || (e is RpcException { StatusCode: StatusCode.Cancelled } && _stop.IsCancellationRequested))
        {
            _events.Writer.TryComplete();
        }
        catch (Exception e)
        {
            _events.Writer.TryComplete(e);
        }
    }
}
