using Grpc.Core;
using MemSvc.Server.Tests.Infrastructure;

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
