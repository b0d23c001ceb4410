using MemSvc.Contracts.V1;
using MemSvc.Server.Tests.Infrastructure;
using static MemSvc.Server.Tests.Infrastructure.Steps;

namespace MemSvc.Server.Tests.Events;

/// <summary>ListPendingFaults over gRPC: list the faults vCPUs wait on, then watch from the positions it gives.</summary>
public sealed class PendingFaultsTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_listed_fault_is_the_event_watchers_got_with_its_deadline_and_a_watch_from_the_position_gets_its_resolution_first()
    {
        await using var server = await RunningServer.StartAsync();
        var clients = new Clients(server.LoopbackChannel());
        var vm = await Scenario.VmWithMemoryAsync(clients, "pending", FaultPolicy.Orchestrator, resolutionTimeout: new() { Seconds = 600 });
        var idle = await Scenario.VmWithMemoryAsync(clients, "idle", FaultPolicy.Orchestrator);
        await using var watcher = Watcher.Start(clients, vm.Name, filter: new EventFilter { Kinds = { EventKind.MemoryFault } });
        await clients.Vcpus.LoadGuestProgramAsync(new() { Name = vm.Name + "/vcpus/0", Program = Program(Write(Page, 1, AccessIntent.Private), Halt()) }, cancellationToken: Ct);
        await clients.Vcpus.StartVcpuAsync(new() { Name = vm.Name + "/vcpus/0" }, cancellationToken: Ct);
        var fault = await watcher.NextAsync();
        await Waits.VcpuStateAsync(clients, vm.Name + "/vcpus/0", VcpuState.Waiting);

        var one = await clients.Events.ListPendingFaultsAsync(new() { Vm = vm.Name }, cancellationToken: Ct);
        var all = await clients.Events.ListPendingFaultsAsync(new(), cancellationToken: Ct);

        var listed = Assert.Single(one.PendingFaults);
        Assert.Equal(fault, listed.Event);
        Assert.Equal(vm.Uid, fault.VmUid);
        Assert.Equal(fault.MemoryFault.Deadline, listed.Deadline);
        Assert.InRange((listed.Deadline.ToDateTime() - fault.Time.ToDateTime()).TotalSeconds, 599, 600);
        var last = (await clients.Vms.GetVmAsync(new() { Name = vm.Name }, cancellationToken: Ct)).Vm.LastEventSequence;
        Assert.Equal([new VmEventPosition { Vm = vm.Name, VmUid = vm.Uid, NextSequence = last + 1 }], one.Positions);
        Assert.Equal([listed], all.PendingFaults);
        Assert.Equal(
            [new VmEventPosition { Vm = idle.Name, VmUid = idle.Uid, NextSequence = 1 }, new VmEventPosition { Vm = vm.Name, VmUid = vm.Uid, NextSequence = last + 1 }],
            all.Positions);
        Assert.Equal(string.Empty, all.NextPageToken);

        await clients.Events.ResolveFaultAsync(new() { Vm = vm.Name, FaultId = fault.MemoryFault.FaultId, Action = FaultAction.Convert }, cancellationToken: Ct);
        await using var after = Watcher.Start(clients, vm.Name, last + 1, new EventFilter { Kinds = { EventKind.MemoryFault, EventKind.FaultResolved } });
        var resolved = await after.NextAsync();
        Assert.Equal(fault.MemoryFault.FaultId, resolved.FaultResolved.FaultId);
        Assert.Empty((await clients.Events.ListPendingFaultsAsync(new() { Vm = vm.Name }, cancellationToken: Ct)).PendingFaults);
    }

    [Fact]
    public async Task Pages_hold_whole_VMs_and_the_token_continues_after_the_last_one()
    {
        await using var server = await RunningServer.StartAsync();
        var clients = new Clients(server.LoopbackChannel());
        foreach (var id in new[] { "c", "a", "b" })
        {
            await clients.Vms.CreateVmAsync(new() { VmId = id, Backend = Backend.Simulated, VcpuCount = 1 }, cancellationToken: Ct);
        }

        var first = await clients.Events.ListPendingFaultsAsync(new() { PageSize = 2 }, cancellationToken: Ct);
        var second = await clients.Events.ListPendingFaultsAsync(new() { PageSize = 2, PageToken = first.NextPageToken }, cancellationToken: Ct);

        Assert.Equal(["vms/a", "vms/b"], first.Positions.Select(p => p.Vm));
        Assert.Equal(["vms/c"], second.Positions.Select(p => p.Vm));
        Assert.Equal(string.Empty, second.NextPageToken);
    }
}
