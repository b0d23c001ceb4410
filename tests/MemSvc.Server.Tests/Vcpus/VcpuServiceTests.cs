using MemSvc.Contracts.V1;
using MemSvc.Server.Tests.Infrastructure;
using static MemSvc.Server.Tests.Infrastructure.Steps;

namespace MemSvc.Server.Tests.Vcpus;

/// <summary>VcpuService: programs, start, pause and resume, and what GetVcpu and ListVcpus report.</summary>
public sealed class VcpuServiceTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_loaded_program_runs_to_HLT_and_the_vCPU_counts_its_exits()
    {
        await using var server = await RunningServer.StartAsync();
        var clients = new Clients(server.LoopbackChannel());
        var vm = await Scenario.VmWithMemoryAsync(clients, "run", vcpus: 3);
        var idle = (await clients.Vcpus.GetVcpuAsync(new GetVcpuRequest { Name = "vms/run/vcpus/2" }, cancellationToken: Ct)).Vcpu;
        Assert.Equal(("vms/run/vcpus/2", 2U, VcpuState.Idle, false, VcpuExitReason.Unspecified), (idle.Name, idle.Index, idle.State, idle.ProgramLoaded, idle.LastExit));

        var loaded = (await clients.Vcpus.LoadGuestProgramAsync(
            new LoadGuestProgramRequest { Name = "vms/run/vcpus/2", Program = Program(Write(Page, 9, AccessIntent.Shared), Report(42), Halt()) }, cancellationToken: Ct)).Vcpu;
        Assert.Equal((VcpuState.Ready, true), (loaded.State, loaded.ProgramLoaded));
        await clients.Vcpus.StartVcpuAsync(new StartVcpuRequest { Name = "vms/run/vcpus/2" }, cancellationToken: Ct);
        var halted = await Waits.VcpuStateAsync(clients, "vms/run/vcpus/2", VcpuState.Halted);

        Assert.Equal(VcpuExitReason.Hlt, halted.LastExit);
        Assert.Equal(["Io=1", "Hlt=1"], halted.ExitCounts.Select(e => $"{e.Reason}={e.Count}"));
        var written = await clients.Memory.ReadGuestMemoryAsync(new ReadGuestMemoryRequest { Vm = vm.Name, Gpa = Page, Size = 2 }, cancellationToken: Ct);
        Assert.Equal([9, 9], written.Data.ToByteArray());
        var first = await clients.Vcpus.ListVcpusAsync(new ListVcpusRequest { Parent = vm.Name, PageSize = 2 }, cancellationToken: Ct);
        var second = await clients.Vcpus.ListVcpusAsync(new ListVcpusRequest { Parent = vm.Name, PageSize = 2, PageToken = first.NextPageToken }, cancellationToken: Ct);
        Assert.Equal(
            ["0 Idle", "1 Idle", "2 Halted"],
            first.Vcpus.Concat(second.Vcpus).Select(v => $"{v.Index} {v.State}"));
    }

    [Fact]
    public async Task A_paused_vCPU_stops_after_its_fault_is_resolved_and_StartVcpu_resumes_it_where_it_stopped()
    {
        await using var server = await RunningServer.StartAsync();
        var clients = new Clients(server.LoopbackChannel());
        var vm = await Scenario.VmWithMemoryAsync(clients, "pause", FaultPolicy.Orchestrator);
        await clients.Vcpus.LoadGuestProgramAsync(
            new LoadGuestProgramRequest { Name = "vms/pause/vcpus/0", Program = Program(Write(0, 5, AccessIntent.Private), Report(1), Halt()) }, cancellationToken: Ct);
        await using var watcher = Watcher.Start(clients, vm.Name, filter: new EventFilter { Kinds = { EventKind.MemoryFault, EventKind.VcpuStateChanged, EventKind.GuestReport } });
        await clients.Vcpus.StartVcpuAsync(new StartVcpuRequest { Name = "vms/pause/vcpus/0" }, cancellationToken: Ct);
        var fault = (await watcher.TakeUntilAsync(e => e.MemoryFault is not null))[^1].MemoryFault;
        var waiting = await Waits.VcpuStateAsync(clients, "vms/pause/vcpus/0", VcpuState.Waiting);
        Assert.Equal(fault.FaultId, waiting.PendingFaultId);

        await clients.Vcpus.PauseVcpuAsync(new PauseVcpuRequest { Name = "vms/pause/vcpus/0" }, cancellationToken: Ct);
        await clients.Events.ResolveFaultAsync(new ResolveFaultRequest { Vm = vm.Name, FaultId = fault.FaultId, Action = FaultAction.Convert }, cancellationToken: Ct);
        await watcher.TakeUntilAsync(e => e.VcpuStateChanged?.State == VcpuState.Paused);
        await clients.Vcpus.StartVcpuAsync(new StartVcpuRequest { Name = "vms/pause/vcpus/0" }, cancellationToken: Ct);
        var rest = await watcher.TakeUntilAsync(e => e.VcpuStateChanged?.State == VcpuState.Halted);

        Assert.Equal(1U, Assert.Single(rest, e => e.GuestReport is not null).GuestReport.Value);
        Assert.DoesNotContain(rest, e => e.MemoryFault is not null);
    }
}
