using System.Net;
using MemSvc.Server.Connections;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.Logging.Abstractions;

namespace MemSvc.Server.Tests.Connections;

/// <summary>
/// D1 under a starved thread pool: accept itself waits for a slot, so connections accepted but not yet admitted
/// (each a descriptor) are bounded by the budget, not by how fast the kernel hands them over. Without a server:
/// the transport underneath is a stand-in that counts what was taken off its backlog.
/// </summary>
public sealed class SlotBoundListenerTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Accept_takes_nothing_off_the_backlog_while_every_slot_is_held_and_goes_on_when_a_connection_is_disposed()
    {
        var (backlog, listener) = Listener(total: 2, refusalSlots: 1);
        var held = new List<ConnectionContext>();
        for (var i = 0; i < 4; i++)
        {
            held.Add((await listener.AcceptAsync(Ct))!);
        }

        var fifth = listener.AcceptAsync(Ct);
        var acceptedWhileFull = backlog.Accepted;
        await held[2].DisposeAsync();
        var fifthConnection = await fifth.AsTask().WaitAsync(TimeSpan.FromSeconds(30), Ct);

        // 2 connections + 1 refusal slot + the listener's own slot = 4.
        Assert.Equal(4, acceptedWhileFull);
        Assert.Equal("connection-5", fifthConnection!.ConnectionId);
        Assert.Equal(5, backlog.Accepted);
    }

    [Fact]
    public async Task Unbinding_ends_an_accept_that_waits_for_a_slot_with_no_connection()
    {
        var (backlog, listener) = Listener(total: 1, refusalSlots: 0);
        await listener.AcceptAsync(Ct);
        await listener.AcceptAsync(Ct);
        var waiting = listener.AcceptAsync(Ct);

        await listener.UnbindAsync(Ct);

        Assert.Null(await waiting.AsTask().WaitAsync(TimeSpan.FromSeconds(30), Ct));
        Assert.Equal(2, backlog.Accepted);
    }

    [Fact]
    public async Task A_connection_disposed_twice_gives_back_one_slot()
    {
        var slots = Slots(total: 1, refusalSlots: 0);
        var listener = new SlotBoundListener(new StandInBacklog(), slots);
        slots.AddListener();
        var connection = (await listener.AcceptAsync(Ct))!;

        await connection.DisposeAsync();
        await connection.DisposeAsync();

        Assert.Equal((2, 2), (slots.Capacity, slots.Free));
    }

    private static AcceptSlots Slots(int total, int refusalSlots) =>
        new(new ConnectionLimits(1024, 512, total, total, total, total, refusalSlots), NullLogger<AcceptSlots>.Instance);

    private static (StandInBacklog Backlog, SlotBoundListener Listener) Listener(int total, int refusalSlots)
    {
        var slots = Slots(total, refusalSlots);
        slots.AddListener();
        var backlog = new StandInBacklog();
        return (backlog, new SlotBoundListener(backlog, slots));
    }

    /// <summary>A listen backlog that always has a client waiting: each accept takes one off it at once.</summary>
    private sealed class StandInBacklog : IConnectionListener
    {
        private int _accepted;

        public int Accepted => Volatile.Read(ref _accepted);

        public EndPoint EndPoint { get; } = new IPEndPoint(IPAddress.Loopback, 1);

        public ValueTask<ConnectionContext?> AcceptAsync(CancellationToken cancellationToken = default)
        {
            var n = Interlocked.Increment(ref _accepted);
            return ValueTask.FromResult<ConnectionContext?>(new DefaultConnectionContext("connection-" + n));
        }

        public ValueTask UnbindAsync(CancellationToken cancellationToken = default) => ValueTask.CompletedTask;

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }
}
