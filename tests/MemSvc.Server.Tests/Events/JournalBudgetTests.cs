using Grpc.Core;
using Grpc.Net.Client;
using MemSvc.Contracts.V1;
using MemSvc.Server.Identity;
using MemSvc.Server.Tests.Infrastructure;
using MemSvc.Server.Tests.Security;
using Microsoft.Extensions.DependencyInjection;

namespace MemSvc.Server.Tests.Events;

/// <summary>
/// MemSvc:Quotas:MaxJournalEventsPerOwner bounds what one owner's journals hold together (probe D5): past it a VM's
/// journal compacts earlier, which a watcher sees as SEQUENCE_COMPACTED; another owner's journals are untouched and
/// a deleted VM's events stop counting.
/// </summary>
public sealed class JournalBudgetTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task An_owners_journals_share_its_budget_and_compact_earlier_past_it_without_touching_another_owner()
    {
        // 1500 events an owner; every journal keeps at least the default floor of 1024. Each Chatty run is 258 events.
        await using var server = await RunningServer.StartAsync(
            builder => builder.Services.AddSingleton<ICallerResolver, PrincipalHeaderResolver>(),
            ("MemSvc:Quotas:MaxJournalEventsPerOwner", "1500"),
            ("MemSvc:Security:Owners:team-a:0", "cert:alice"),
            ("MemSvc:Security:Owners:team-b:0", "cert:bob"));
        var alice = ClientsOf(server, "cert:alice");
        var bob = ClientsOf(server, "cert:bob");
        await ChattyVmAsync(alice, "a1", 5);
        await ChattyVmAsync(alice, "a2", 5);
        await ChattyVmAsync(bob, "b1", 5);

        // a1 holds its 1290 (under 1500); a2 only its floor, 1024 of 1290; Bob's b1 all of its 1290.
        var held = (await OldestAsync(alice, "a1"), await OldestAsync(alice, "a2"), await OldestAsync(bob, "b1"));

        // a1's delete gives its 1290 back: a2 grows over 258 more events instead of compacting them.
        await alice.Vms.DeleteVmAsync(new() { Name = "vms/a1" }, cancellationToken: Ct);
        await Waits.RunToHaltAsync(alice, "vms/a2", Waits.Chatty(5));
        var a2 = (await alice.Vms.GetVmAsync(new() { Name = "vms/a2" }, cancellationToken: Ct)).Vm;

        Assert.Equal((1UL, 267UL, 1UL), held);
        Assert.Equal((1548UL, 267UL), (a2.LastEventSequence, await OldestAsync(alice, "a2")));
    }

    private static async Task ChattyVmAsync(Clients owner, string vmId, uint runs)
    {
        await owner.Vms.CreateVmAsync(new() { VmId = vmId, VcpuCount = 1, Backend = Backend.Simulated }, cancellationToken: Ct);
        for (uint run = 0; run < runs; run++)
        {
            await Waits.RunToHaltAsync(owner, "vms/" + vmId, Waits.Chatty(run));
        }
    }

    /// <summary>The oldest sequence the VM's journal holds: 1, or what a watch from 1 is told (SEQUENCE_COMPACTED).</summary>
    private static async Task<ulong> OldestAsync(Clients owner, string vmId)
    {
        using var call = owner.Events.WatchEvents(new WatchEventsRequest { Vm = "vms/" + vmId, StartSequence = 1 }, cancellationToken: Ct);
        try
        {
            await call.ResponseStream.MoveNext(Ct);
            return call.ResponseStream.Current.Event.Sequence;
        }
        catch (RpcException e) when (RpcError.From(e).Info.Reason == "SEQUENCE_COMPACTED")
        {
            return ulong.Parse(RpcError.From(e).Info.Metadata["oldest_sequence"], System.Globalization.CultureInfo.InvariantCulture);
        }
    }

    private static Clients ClientsOf(RunningServer server, string principal) =>
        new(GrpcChannel.ForAddress(server.Loopback, new GrpcChannelOptions { HttpHandler = new PrincipalHandler(principal), DisposeHttpClient = true }));
}
