using System.Threading.Channels;
using Grpc.Core;
using MemSvc.Contracts.V1;

namespace MemSvc.Server.Tests.Infrastructure;

/// <summary>
/// A WatchEvents stream read in the background into a queue, so a test can take events one by one while it
/// acts on them. <see cref="Completion"/> is how the stream ended (an RpcException for a status other than OK).
/// </summary>
public sealed class Watcher : IAsyncDisposable
{
    /// <summary>A safety net against a hang, never an assertion about speed.</summary>
    public static readonly TimeSpan Patience = SlowHost.Scaled(TimeSpan.FromSeconds(30));

    private readonly Channel<Event> _events = Channel.CreateUnbounded<Event>();
    private readonly CancellationTokenSource _stop = new();

    private Watcher(EventService.EventServiceClient client, WatchEventsRequest request)
    {
        var call = client.WatchEvents(request, cancellationToken: _stop.Token);
        Completion = Task.Run(async () =>
        {
            try
            {
                await foreach (var response in call.ResponseStream.ReadAllAsync(_stop.Token))
                {
                    await _events.Writer.WriteAsync(response.Event);
                }
            }
            finally
            {
                _events.Writer.TryComplete();
                call.Dispose();
            }
        });
    }

    public Task Completion { get; }

    public static Watcher Start(Clients clients, string vm, ulong startSequence = 1, EventFilter? filter = null) =>
        new(clients.Events, new WatchEventsRequest { Vm = vm, StartSequence = startSequence, Filter = filter });

    public static Watcher Start(Clients clients, WatchEventsRequest request) => new(clients.Events, request);

    /// <summary>The next event; fails the test if the stream ends first.</summary>
    public async Task<Event> NextAsync()
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        timeout.CancelAfter(Patience);
        if (await _events.Reader.WaitToReadAsync(timeout.Token) && _events.Reader.TryRead(out var evt))
        {
            return evt;
        }

        await Completion;
        throw new InvalidOperationException("the watch stream ended");
    }

    /// <summary>Takes events until <paramref name="until"/> holds for one; returns them all, that one included.</summary>
    public async Task<List<Event>> TakeUntilAsync(Func<Event, bool> until)
    {
        var taken = new List<Event>();
        while (true)
        {
            var evt = await NextAsync();
            taken.Add(evt);
            if (until(evt))
            {
                return taken;
            }
        }
    }

    /// <summary>Every event still to come, until the stream ends.</summary>
    public async Task<List<Event>> RestAsync()
    {
        var rest = new List<Event>();
        await foreach (var evt in _events.Reader.ReadAllAsync(TestContext.Current.CancellationToken))
        {
            rest.Add(evt);
        }

        return rest;
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        try
        {
            await Completion;
        }
        catch (Exception e) when (e is RpcException or OperationCanceledException)
        {
        }

        _stop.Dispose();
    }
}
