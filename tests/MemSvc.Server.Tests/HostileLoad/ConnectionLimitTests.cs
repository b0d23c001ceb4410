using Grpc.Core;
using MemSvc.Server.Connections;
using MemSvc.Server.Hosting;
using MemSvc.Server.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace MemSvc.Server.Tests.HostileLoad;

/// <summary>
/// D1, the refusal itself: a connection past a limit gets one clear answer (RESOURCE_EXHAUSTED CONNECTION_LIMIT,
/// naming the limit) instead of a reset, and the connections already admitted are not disturbed.
/// </summary>
[Collection(nameof(HostileLoadCollection))]
public sealed class ConnectionLimitTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public static TheoryData<string, string, bool> Limits => new()
    {
        // scope, the setting, and whether the Unix socket (another listener and another peer) still gets in.
        { "peer", "MaxPerPeer", true },
        { "listener", "MaxPerListener", true },
        { "server", "MaxTotal", false },
    };

    [Theory]
    [MemberData(nameof(Limits))]
    public async Task The_connection_past_a_limit_is_refused_RESOURCE_EXHAUSTED_CONNECTION_LIMIT_and_admitted_ones_go_on(string scope, string setting, bool socketGetsIn)
    {
        await using var server = await RunningServer.StartAsync(($"MemSvc:Connections:{setting}", "2"));
        var first = new Clients(server.LoopbackChannel());
        var second = new Clients(server.LoopbackChannel());
        await first.Host.GetHostInfoAsync(new(), cancellationToken: Ct);
        await second.Host.GetHostInfoAsync(new(), cancellationToken: Ct);

        var third = new Clients(server.LoopbackChannel());
        var refused = await RpcAssert.FailsAsync(
            () => third.Vms.ListVmsAsync(new(), cancellationToken: Ct).ResponseAsync, StatusCode.ResourceExhausted, "CONNECTION_LIMIT");
        var socket = await OutcomeAsync(() => new Clients(server.SocketChannel()).Vms.ListVmsAsync(new(), cancellationToken: Ct).ResponseAsync);
        var stillServed = await first.Vms.ListVmsAsync(new(), cancellationToken: Ct);

        Assert.Equal(new Dictionary<string, string> { ["scope"] = scope, ["limit"] = "2" }, refused.Info.Metadata);
        Assert.Equal(socketGetsIn ? StatusCode.OK : StatusCode.ResourceExhausted, socket);
        Assert.Empty(stillServed.Vms);
    }

    [Fact]
    public async Task Every_listener_accepts_through_the_connection_slots_and_a_closed_connection_gives_its_slot_back()
    {
        await using var server = await RunningServer.StartAsync(("MemSvc:Connections:MaxTotal", "8"), ("MemSvc:Connections:RefusalSlots", "2"));
        var slots = server.Services.GetRequiredService<AcceptSlots>();
        var listeners = server.Services.GetRequiredService<Listeners>().TcpListeners.Count() + 1;
        var channel = server.LoopbackChannel();
        await new Clients(channel).Host.GetHostInfoAsync(new(), cancellationToken: Ct);
        var freeWhileConnected = slots.Free;
        channel.Dispose();

        // 8 connections + 2 refusal slots + one in hand per listener; the open connection holds one more.
        Assert.Equal(10 + listeners, slots.Capacity);
        Assert.Equal(10 - 1, freeWhileConnected);

        // Kestrel disposes a closed connection on its own time; bounded.
        for (var i = 0; i < 100 && slots.Free != 10; i++)
        {
            await Task.Delay(100, Ct);
        }

        Assert.Equal(10, slots.Free);
    }

    private static async Task<StatusCode> OutcomeAsync(Func<Task> call)
    {
        try
        {
            await call();
            return StatusCode.OK;
        }
        catch (RpcException e)
        {
            return e.StatusCode;
        }
    }
}
