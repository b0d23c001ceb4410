using System.Net;
using MemSvc.Contracts.V1;
using MemSvc.Server.Tests.Infrastructure;

namespace MemSvc.Server.Tests.HostileLoad;

/// <summary>
/// Clients that attack the connection rather than the API: one that dribbles its bytes (slowloris), one that opens
/// and resets streams as fast as it can (HTTP/2 rapid reset, CVE-2023-44487), one that connects and says nothing.
/// Each must lose its connection while everyone else is served and the VMs run on.
/// </summary>
[Collection(nameof(HostileLoadCollection))]
public sealed class HostileClientTests
{
    private const string GetHostInfo = "/memsvc.v1.HostService/GetHostInfo";

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Slowloris_connections_that_dribble_their_request_headers_are_cut_at_the_header_timeout_while_others_are_served()
    {
        await using var server = await RunningServer.StartAsync(("MemSvc:Connections:RequestHeadersTimeout", "00:00:02"));
        var clients = new Clients(server.LoopbackChannel());
        await Scenario.VmWithMemoryAsync(clients, "busy");
        var endPoint = new IPEndPoint(IPAddress.Loopback, server.Loopback.Port);

        // Ten connections, each sending a request's header block one byte every 500 ms, never ending it.
        var slow = new List<RawHttp2>();
        for (var i = 0; i < 10; i++)
        {
            slow.Add(await RawHttp2.ConnectAsync(endPoint));
        }

        try
        {
            var dribbling = Task.WhenAll(slow.Select(DribbleAsync));
            var served = await clients.Vms.GetVmAsync(new() { Name = "vms/busy" }, cancellationToken: Ct);
            var cut = await dribbling;

            Assert.Equal("vms/busy", served.Vm.Name);
            Assert.All(cut, Assert.True);
        }
        finally
        {
            slow.ForEach(s => s.Dispose());
        }
    }

    [Fact]
    public async Task A_connection_that_sends_nothing_after_its_preface_is_closed_at_the_idle_timeout()
    {
        await using var server = await RunningServer.StartAsync(("MemSvc:Connections:IdleTimeout", "00:00:02"));
        using var idle = await RawHttp2.ConnectAsync(new IPEndPoint(IPAddress.Loopback, server.Loopback.Port));
        await idle.SendAsync(ConnectionFlood.Preface);

        var (closed, _) = await idle.ReadUntilClosedAsync(TimeSpan.FromSeconds(20));

        Assert.True(closed);
    }

    [Fact]
    public async Task A_flood_of_opened_and_reset_streams_loses_its_connection_and_the_server_serves_on()
    {
        await using var server = await RunningServer.StartAsync();
        var clients = new Clients(server.SocketChannel());
        var vm = await Scenario.VmWithMemoryAsync(clients, "steady");
        using var attacker = await RawHttp2.ConnectAsync(new IPEndPoint(IPAddress.Loopback, server.Loopback.Port));
        await attacker.SendAsync(ConnectionFlood.Preface);

        // HEADERS then RST_STREAM(CANCEL) on streams 1, 3, 5, ...: bounded in count, in bytes per write and in time.
        var reading = attacker.ReadUntilClosedAsync(TimeSpan.FromSeconds(30));
        var sent = 0;
        try
        {
            for (var stream = 1; sent < 20_000 && !reading.IsCompleted; stream += 2, sent++)
            {
                byte[] pair = [.. RawHttp2.RequestHeaders(stream, GetHostInfo, endStream: false), .. RawHttp2.Frame(RawHttp2.RstStream, 0, stream, [0, 0, 0, 8])];
                await attacker.SendAsync(pair);
            }
        }
        catch (System.Net.Sockets.SocketException)
        {
            // The server closed the connection mid-write: what this test waits for.
        }

        var (closed, _) = await reading;
        var after = await clients.Vms.GetVmAsync(new() { Name = vm.Name }, cancellationToken: Ct);

        Assert.True(closed, $"the connection survived {sent} reset streams");
        Assert.True(sent < 20_000, "every reset stream was accepted");
        Assert.Equal(vm.Name, after.Vm.Name);
    }

    /// <summary>
    /// Sends the preface, then a HEADERS frame without END_HEADERS and one CONTINUATION frame of one byte every 500 ms
    /// (at most 30: 15 s); true when the server closed the connection before the test's patience ran out.
    /// </summary>
    private static async Task<bool> DribbleAsync(RawHttp2 connection)
    {
        var reading = connection.ReadUntilClosedAsync(TimeSpan.FromSeconds(20));
        var block = RawHttp2.RequestHeaders(1, GetHostInfo, endStream: false)[9..];
        try
        {
            await connection.SendAsync(ConnectionFlood.Preface);
            await connection.SendFrameAsync(RawHttp2.Headers, 0, 1, block.AsSpan(0, 1));
            for (var i = 1; i < Math.Min(block.Length, 31) && !reading.IsCompleted; i++)
            {
                await Task.WhenAny(reading, Task.Delay(500, Ct));
                await connection.SendFrameAsync(RawHttp2.Continuation, 0, 1, block.AsSpan(i, 1));
            }
        }
        catch (System.Net.Sockets.SocketException)
        {
            // The server closed the connection mid-write: what this test waits for.
        }

        var (closed, _) = await reading;
        return closed;
    }
}
