using MemSvc.Client.Events;
using MemSvc.Client.Tests.Infrastructure;
using MemSvc.Contracts.V1;
using MemSvc.Testing;

namespace MemSvc.Client.Tests.Watch;

/// <summary>List the pending faults, then watch from the positions the listing gave: nothing lost, nothing repeated.</summary>
public sealed class ListThenWatchTests
{
    [Fact]
    public async Task A_watch_from_a_listing_continues_each_VM_right_after_it_and_a_VM_made_later_from_1()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var server = await TestServer.StartAsync();
        using var client = new MemSvcClient(ResumableWatchTests.Options(server));
        var vm = await Memory.VmWithMemoryAsync(client, "pend", FaultPolicy.Orchestrator, vcpus: 1);
        await Memory.VmWithMemoryAsync(client, "quiet", FaultPolicy.Orchestrator, vcpus: 1);
        var program = new GuestProgram();
        program.Steps.Add(new GuestStep { WritePattern = new WritePatternStep { Gpa = 0, Length = 4096, Pattern = 1, Intent = AccessIntent.Private } });
        program.Steps.Add(new GuestStep { Halt = new HaltStep() });
        await client.Vcpus.LoadProgramAsync(vm.Name, 0, program, ct);
        await client.Vcpus.StartAsync(vm.Name, 0, ct);
        while ((await client.Vcpus.GetAsync(vm.Name, 0, ct)).State != VcpuState.Waiting)
        {
            await Task.Delay(5, ct);
        }

        var listing = await client.Events.ListPendingFaultsAsync(cancellationToken: ct);

        var fault = Assert.Single(listing.Faults).Event;
        Assert.Equal((vm.Name, 1UL), (fault.Vm, fault.MemoryFault.FaultId));
        var position = listing.Positions.Single(p => p.Vm == vm.Name).NextSequence;
        Assert.Equal(fault.Sequence + 2, position); // the fault, then the vCPU's WAITING
        Assert.Equal(["vms/pend", "vms/quiet"], listing.Positions.Select(p => p.Vm));

        // After the listing: the fault is resolved and a VM is created; the watch starts at the listing's positions.
        await client.Events.ResolveFaultAsync(vm.Name, 1, FaultAction.Convert, ct);
        await Memory.VmWithMemoryAsync(client, "later", FaultPolicy.Auto, vcpus: 1);
        var later = await client.Memory.ConvertMemoryAsync("later", 0, 4096, MemoryVisibility.Private, ct);
        var watch = new WatchOptions { Positions = listing.Positions, Kinds = [EventKind.ConversionApplied, EventKind.FaultResolved] };
        var seen = await client.Events.WatchAsync(watch, ct).Take(3).Select(e => $"{e.Vm} {e.Sequence} {e.PayloadCase}").ToListAsync(ct);

        Assert.Equal(
            [$"vms/later {later} ConversionApplied", $"vms/pend {position} ConversionApplied", $"vms/pend {position + 1} FaultResolved"],
            seen.Order(StringComparer.Ordinal));
        Assert.Equal(1UL, later);
    }
}
