using Grpc.Core;
using MemSvc.Contracts.V1;
using MemSvc.Server.Tests.Infrastructure;
using static MemSvc.Server.Tests.Infrastructure.Steps;

namespace MemSvc.Server.Tests.Events;

/// <summary>VM uids over gRPC: a VM created again under its name is another VM, and no watch or resolution mixes the two.</summary>
public sealed class IncarnationTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_VM_created_again_has_another_uid_everywhere_and_its_events_carry_it()
    {
        await using var server = await RunningServer.StartAsync();
        var clients = new Clients(server.LoopbackChannel());
        var old = await Scenario.VmWithMemoryAsync(clients, "twice");
        await ConvertAsync(clients, old.Name, 2);
        await clients.Vms.DeleteVmAsync(new() { Name = old.Name }, cancellationToken: Ct);
        var now = await Scenario.VmWithMemoryAsync(clients, "twice");
        await ConvertAsync(clients, now.Name, 1);

        Assert.True(Guid.TryParseExact(old.Uid, "D", out _));
        Assert.NotEqual(old.Uid, now.Uid);
        Assert.Equal(now.Uid, (await clients.Vms.GetVmAsync(new() { Name = now.Name }, cancellationToken: Ct)).Vm.Uid);
        Assert.Equal([now.Uid], (await clients.Vms.ListVmsAsync(new(), cancellationToken: Ct)).Vms.Select(v => v.Uid));
        await using var watcher = Watcher.Start(clients, now.Name);
        var first = await watcher.NextAsync();
        Assert.Equal((1UL, now.Uid), (first.Sequence, first.VmUid));
    }

    [Fact]
    public async Task A_one_VM_watch_resumed_after_its_VM_was_replaced_fails_at_once_instead_of_waiting()
    {
        await using var server = await RunningServer.StartAsync();
        var clients = new Clients(server.LoopbackChannel());
        var old = await Scenario.VmWithMemoryAsync(clients, "swap");
        await ConvertAsync(clients, old.Name, 5);
        await clients.Vms.DeleteVmAsync(new() { Name = old.Name }, cancellationToken: Ct);
        var now = await Scenario.VmWithMemoryAsync(clients, "swap");
        await ConvertAsync(clients, now.Name, 1);

        var replaced = await RpcAssert.FailsAsync(
            () => FirstAsync(clients, new() { Vm = old.Name, VmUid = old.Uid, StartSequence = 6 }), StatusCode.FailedPrecondition, "VM_REPLACED", "vm_uid");
        Assert.Equal((old.Uid, now.Uid), (replaced.Info.Metadata["vm_uid"], replaced.Info.Metadata["current_vm_uid"]));

        // The resume that used to wait silently for the new VM to reach the old one's position.
        var beyond = await RpcAssert.FailsAsync(
            () => FirstAsync(clients, new() { Vm = old.Name, StartSequence = 6 }), StatusCode.OutOfRange, "SEQUENCE_BEYOND_END", "start_sequence");
        Assert.Equal(("2", now.Uid), (beyond.Info.Metadata["next_sequence"], beyond.Info.Metadata["vm_uid"]));

        await RpcAssert.FailsAsync(
            () => clients.Events.ResolveFaultAsync(new() { Vm = old.Name, VmUid = old.Uid, FaultId = 1, Action = FaultAction.Convert }, cancellationToken: Ct).ResponseAsync,
            StatusCode.FailedPrecondition,
            "VM_REPLACED",
            "vm_uid");
    }

    [Fact]
    public async Task An_all_VMs_watch_resumed_from_positions_tells_the_old_VM_ended_before_the_new_one_begins()
    {
        await using var server = await RunningServer.StartAsync();
        var clients = new Clients(server.LoopbackChannel());
        var old = await Scenario.VmWithMemoryAsync(clients, "again");
        await ConvertAsync(clients, old.Name, 4);
        await clients.Vms.DeleteVmAsync(new() { Name = old.Name }, cancellationToken: Ct);
        var now = await Scenario.VmWithMemoryAsync(clients, "again");
        await ConvertAsync(clients, now.Name, 2);

        var request = new WatchEventsRequest { ProgressMessages = true, Positions = { new VmEventPosition { Vm = old.Name, VmUid = old.Uid, NextSequence = 5 } } };
        using var call = clients.Events.WatchEvents(request, cancellationToken: Ct);
        var seen = new List<string>();
        while (seen.Count < 3)
        {
            Assert.True(await call.ResponseStream.MoveNext(Ct));
            var item = call.ResponseStream.Current;
            seen.Add(item.ItemCase switch
            {
                WatchEventsResponse.ItemOneofCase.Event => $"event {item.Event.VmUid} {item.Event.Sequence}",
                WatchEventsResponse.ItemOneofCase.VmEnded => $"ended {item.VmEnded.VmUid} {item.VmEnded.NextSequence} {item.VmEnded.Reason}",
                _ => $"other {item.ItemCase}",
            });
        }

        Assert.Equal([$"ended {old.Uid} 5 Replaced", $"event {now.Uid} 1", $"event {now.Uid} 2"], seen);
    }

    private static async Task FirstAsync(Clients clients, WatchEventsRequest request)
    {
        using var call = clients.Events.WatchEvents(request, cancellationToken: Ct);
        await call.ResponseStream.MoveNext(Ct);
    }

    private static async Task ConvertAsync(Clients clients, string vm, int times)
    {
        for (var i = 0; i < times; i++)
        {
            await clients.Memory.ConvertMemoryAsync(new() { Vm = vm, Gpa = 0, Size = Page, Target = i % 2 == 0 ? MemoryVisibility.Private : MemoryVisibility.Shared }, cancellationToken: Ct);
        }
    }
}
