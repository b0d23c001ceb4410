using Grpc.Core;
using MemSvc.Contracts.V1;
using MemSvc.Server.Tests.Infrastructure;
using static MemSvc.Server.Tests.Infrastructure.Steps;

namespace MemSvc.Server.Tests.Events;

/// <summary>ORCHESTRATOR faults nobody resolves (the timeout fallback), and RETRY / FAIL resolutions.</summary>
public sealed class FaultResolutionTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task An_unanswered_fault_gets_the_CONVERT_fallback_recorded_and_the_guest_finishes()
    {
        await using var server = await RunningServer.StartAsync();
        var clients = new Clients(server.LoopbackChannel());
        var vm = await Scenario.VmWithMemoryAsync(clients, "fallback", FaultPolicy.Orchestrator, resolutionTimeout: new() { Nanos = 20_000_000 }, fallback: FaultAction.Convert);
        await clients.Vcpus.LoadGuestProgramAsync(
            new LoadGuestProgramRequest { Name = "vms/fallback/vcpus/0", Program = Program(Write(Page, 3, AccessIntent.Private), Check(Page, 3, AccessIntent.Private), Halt()) }, cancellationToken: Ct);
        await using var watcher = Watcher.Start(clients, vm.Name);

        await clients.Vcpus.StartVcpuAsync(new StartVcpuRequest { Name = "vms/fallback/vcpus/0" }, cancellationToken: Ct);
        var events = await watcher.TakeUntilAsync(e => e.VcpuStateChanged?.State is VcpuState.Halted or VcpuState.Failed);

        var fault = Assert.Single(events, e => e.MemoryFault is not null).MemoryFault;
        var resolved = Assert.Single(events, e => e.FaultResolved is not null).FaultResolved;
        var applied = Assert.Single(events, e => e.ConversionApplied is not null).ConversionApplied;
        Assert.Equal((fault.FaultId, FaultAction.Convert, true), (resolved.FaultId, resolved.Action, resolved.ByFallback));
        Assert.Equal((Page, Page, true, ConversionInitiator.Fallback, fault.FaultId), (applied.Gpa, applied.Size, applied.ToPrivate, applied.Initiator, applied.FaultId));
        Assert.Equal(VcpuState.Halted, events[^1].VcpuStateChanged.State);
        var late = await RpcAssert.FailsAsync(
            () => clients.Events.ResolveFaultAsync(new ResolveFaultRequest { Vm = vm.Name, FaultId = fault.FaultId, Action = FaultAction.Convert }, cancellationToken: Ct).ResponseAsync,
            StatusCode.FailedPrecondition,
            "FAULT_TIMED_OUT",
            "fault_id");
        Assert.Equal("CONVERT", late.Info.Metadata["action"]);
    }

    [Fact]
    public async Task An_unanswered_fault_with_the_FAIL_fallback_fails_the_vCPU()
    {
        await using var server = await RunningServer.StartAsync();
        var clients = new Clients(server.LoopbackChannel());
        await Scenario.VmWithMemoryAsync(clients, "fail", FaultPolicy.Orchestrator, resolutionTimeout: new() { Nanos = 20_000_000 });
        await clients.Vcpus.LoadGuestProgramAsync(new LoadGuestProgramRequest { Name = "vms/fail/vcpus/0", Program = Program(Write(Page, 3, AccessIntent.Private), Halt()) }, cancellationToken: Ct);
        await clients.Vcpus.StartVcpuAsync(new StartVcpuRequest { Name = "vms/fail/vcpus/0" }, cancellationToken: Ct);

        var failed = await Waits.VcpuStateAsync(clients, "vms/fail/vcpus/0", VcpuState.Failed);

        Assert.False(string.IsNullOrEmpty(failed.StateReason));
    }

    [Fact]
    public async Task RETRY_leaves_the_attribute_so_the_access_faults_again_and_RETRY_on_a_conversion_request_is_refused()
    {
        await using var server = await RunningServer.StartAsync();
        var clients = new Clients(server.LoopbackChannel());
        var vm = await Scenario.VmWithMemoryAsync(clients, "retry", FaultPolicy.Orchestrator);
        await clients.Vcpus.LoadGuestProgramAsync(
            new LoadGuestProgramRequest { Name = "vms/retry/vcpus/0", Program = Program(Write(Page, 3, AccessIntent.Private), Map(2 * Page, 1, true), Halt()) }, cancellationToken: Ct);
        await using var watcher = Watcher.Start(clients, vm.Name, filter: new EventFilter { Kinds = { EventKind.MemoryFault, EventKind.ConversionRequested } });
        await clients.Vcpus.StartVcpuAsync(new StartVcpuRequest { Name = "vms/retry/vcpus/0" }, cancellationToken: Ct);

        var first = (await watcher.NextAsync()).MemoryFault;
        await clients.Events.ResolveFaultAsync(new ResolveFaultRequest { Vm = vm.Name, FaultId = first.FaultId, Action = FaultAction.Retry }, cancellationToken: Ct);
        var again = (await watcher.NextAsync()).MemoryFault;
        var response = await clients.Events.ResolveFaultAsync(new ResolveFaultRequest { Vm = vm.Name, FaultId = again.FaultId, Action = FaultAction.Convert }, cancellationToken: Ct);
        var request = (await watcher.NextAsync()).ConversionRequested;

        Assert.Equal((first.Gpa, first.Private, first.FaultId + 1), (again.Gpa, again.Private, again.FaultId));
        Assert.Equal((again.FaultId, FaultAction.Convert), (response.FaultId, response.Action));
        await RpcAssert.FailsAsync(
            () => clients.Events.ResolveFaultAsync(new ResolveFaultRequest { Vm = vm.Name, FaultId = request.FaultId, Action = FaultAction.Retry }, cancellationToken: Ct).ResponseAsync,
            StatusCode.FailedPrecondition,
            "RETRY_NOT_ALLOWED",
            "action");
        await clients.Events.ResolveFaultAsync(new ResolveFaultRequest { Vm = vm.Name, FaultId = request.FaultId, Action = FaultAction.Convert }, cancellationToken: Ct);
        await Waits.VcpuStateAsync(clients, "vms/retry/vcpus/0", VcpuState.Halted);
    }
}
