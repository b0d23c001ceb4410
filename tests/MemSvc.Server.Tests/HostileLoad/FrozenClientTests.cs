using Grpc.Core;
using MemSvc.Contracts.V1;
using MemSvc.Server.Tests.Infrastructure;
using static MemSvc.Server.Tests.Infrastructure.Steps;

namespace MemSvc.Server.Tests.HostileLoad;

/// <summary>
/// D9: the server sent no HTTP/2 PINGs, so a SIGSTOPped or partitioned client kept its owner's watcher slots for
/// ever (0 of 64 admitted at +60 s). Now a connection that leaves a PING unanswered is closed, and its watches with it.
/// </summary>
[Collection(nameof(HostileLoadCollection))]
public sealed class FrozenClientTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_frozen_clients_watches_end_once_it_leaves_a_keepalive_ping_unanswered_and_its_slots_come_back()
    {
        await using var server = await RunningServer.StartAsync(
            ("MemSvc:Quotas:MaxWatchersPerOwner", "2"),
            ("MemSvc:Connections:KeepAlivePingDelay", "00:00:01"),
            ("MemSvc:Connections:KeepAlivePingTimeout", "00:00:01"));
        var clients = new Clients(server.LoopbackChannel());
        var vm = await Scenario.VmWithMemoryAsync(clients, "w1");
        await clients.Vcpus.LoadGuestProgramAsync(new() { Name = "vms/w1/vcpus/0", Program = Program(Halt()) }, cancellationToken: Ct);

        // The owner's every watcher slot, taken by a client that then stops dead.
        using var frozen = new FreezableClient(server.Loopback);
        var frozenClients = new Clients(frozen.Channel);
        await using var first = Watcher.Start(frozenClients, vm.Name);
        await using var second = Watcher.Start(frozenClients, vm.Name);
        await first.NextAsync();
        await second.NextAsync();
        frozen.Freeze();
        var refused = await TryWatchAsync(clients, vm.Name);

        // Bounded: the test's own patience, far above the 2 s a PING and its timeout take.
        var admitted = await TryWatchAsync(clients, vm.Name);
        for (var attempt = 0; admitted != StatusCode.OK && attempt < 60; attempt++)
        {
            await Task.Delay(500, Ct);
            admitted = await TryWatchAsync(clients, vm.Name);
        }

        Assert.Equal(StatusCode.ResourceExhausted, refused);
        Assert.Equal(StatusCode.OK, admitted);
    }

    /// <summary>Opens a watch from #1 and reads its first event: OK, or the status that refused it.</summary>
    private static async Task<StatusCode> TryWatchAsync(Clients clients, string vm)
    {
        using var call = clients.Events.WatchEvents(new() { Vm = vm, StartSequence = 1 }, cancellationToken: Ct);
        try
        {
            return await call.ResponseStream.MoveNext(Ct) ? StatusCode.OK : StatusCode.Unknown;
        }
        catch (RpcException e)
        {
            return e.StatusCode;
        }
    }
}
