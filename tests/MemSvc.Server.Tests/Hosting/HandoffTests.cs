using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using MemSvc.Contracts.V1;
using MemSvc.Server.Tests.Infrastructure;
using static MemSvc.Server.Tests.Infrastructure.Steps;

namespace MemSvc.Server.Tests.Hosting;

/// <summary>
/// Issue 16's planned handoff, with real server processes: a second server started with MemSvc:Handoff:TakeOver
/// beside a running one takes over its simulated VMs, and a client sees nothing but a reconnect over the same socket.
/// </summary>
public sealed class HandoffTests : IDisposable
{
    private static readonly (string Key, string Value) TakeOver = ("MemSvc:Handoff:TakeOver", "true");

    private readonly DirectoryInfo _directory = Directory.CreateTempSubdirectory("memsvc-handoff-");

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task The_new_process_takes_over_every_VM_with_its_memory_attributes_program_pending_fault_and_journal_and_the_old_one_exits_0()
    {
        var seed = Environment.TickCount;
        ulong lateFault;
        await using var old = await ChildServer.StartInAsync(_directory.FullName);
        var clients = new Clients(old.SocketChannel());

        // Data written through the shared side, and a range converted to private; a VM created with a request_id.
        var plain = await Scenario.VmWithMemoryAsync(clients, "plain");
        var createOnce = new CreateVmRequest { VmId = "once", Backend = Backend.Simulated, VcpuCount = 1, RequestId = "create-once" };
        var once = (await clients.Vms.CreateVmAsync(createOnce, cancellationToken: Ct)).Vm;
        var data = new byte[(3 * Page) + 17];
        new Random(seed).NextBytes(data);
        await clients.Memory.WriteGuestMemoryAsync(new() { Vm = plain.Name, Gpa = (5 * Page) + 100, Data = ByteString.CopyFrom(data) }, cancellationToken: Ct);
        await clients.Memory.ConvertMemoryAsync(new() { Vm = plain.Name, Gpa = 32 * MiB, Size = 4 * Page, Target = MemoryVisibility.Private }, cancellationToken: Ct);

        // A program that ran to its end (AUTO: each private write faulted and was converted).
        var halted = await Scenario.VmWithMemoryAsync(clients, "halted");
        await Waits.RunToHaltAsync(clients, halted.Name, Program(Write(0, 0x5a, AccessIntent.Private, 4 * Page), Check(0, 0x5a, AccessIntent.Private, 4 * Page), Halt()));

        // A fault nobody answered in its 1 ms: the fallback failed it, and a late answer is told so, before and after.
        var late = await Scenario.VmWithMemoryAsync(clients, "late", FaultPolicy.Orchestrator, resolutionTimeout: Duration.FromTimeSpan(TimeSpan.FromMilliseconds(1)), fallback: FaultAction.Fail);
        await using (var lateWatcher = Watcher.Start(clients, late.Name))
        {
            await clients.Vcpus.LoadGuestProgramAsync(new() { Name = late.Name + "/vcpus/0", Program = Program(Write(0, 1, AccessIntent.Private), Halt()) }, cancellationToken: Ct);
            await clients.Vcpus.StartVcpuAsync(new() { Name = late.Name + "/vcpus/0" }, cancellationToken: Ct);
            lateFault = (await lateWatcher.TakeUntilAsync(e => e.PayloadCase == Event.PayloadOneofCase.MemoryFault))[^1].MemoryFault.FaultId;
            await Waits.VcpuStateAsync(clients, late.Name + "/vcpus/0", VcpuState.Failed);
        }

        // An ORCHESTRATOR VM whose faults a watcher resolves, but for the third, left pending across the handoff.
        var guest = await Scenario.VmWithMemoryAsync(clients, "guest", FaultPolicy.Orchestrator, resolutionTimeout: Duration.FromTimeSpan(TimeSpan.FromMinutes(10)));
        var vcpu = guest.Name + "/vcpus/0";
        var program = Program(
            Write(0, 0xa1, AccessIntent.Private, 2 * Page),
            Write(MiB, 0xb2, AccessIntent.Private, Page),
            Check(0, 0xa1, AccessIntent.Private, 2 * Page),
            Check(MiB, 0xb2, AccessIntent.Private, Page),
            Report(0x600d),
            Halt());
        await clients.Vcpus.LoadGuestProgramAsync(new() { Name = vcpu, Program = program }, cancellationToken: Ct);
        var watcher = Watcher.Start(clients, guest.Name);
        await clients.Vcpus.StartVcpuAsync(new() { Name = vcpu }, cancellationToken: Ct);
        var seen = new List<Event>();
        ulong pending = 0;
        while (pending == 0)
        {
            var evt = await watcher.NextAsync();
            seen.Add(evt);
            if (evt.PayloadCase == Event.PayloadOneofCase.MemoryFault && evt.MemoryFault.Gpa < MiB)
            {
                await clients.Events.ResolveFaultAsync(new() { Vm = guest.Name, FaultId = evt.MemoryFault.FaultId, Action = FaultAction.Convert }, cancellationToken: Ct);
            }
            else if (evt.PayloadCase == Event.PayloadOneofCase.MemoryFault)
            {
                pending = evt.MemoryFault.FaultId;
            }
        }

        await Waits.VcpuStateAsync(clients, vcpu, VcpuState.Waiting);
        var before = await StateSnapshot.TakeAsync(clients);

        await using var next = await ChildServer.StartInAsync(_directory.FullName, TakeOver);
        Assert.Equal(0, await old.ExitCodeAsync());

        // The old process's stream broke (a reconnect is all a client sees) after whatever it had sent.
        seen.AddRange(await watcher.RestAsync());
        Assert.Equal(StatusCode.Unavailable, (await Assert.ThrowsAsync<RpcException>(() => watcher.Completion)).StatusCode);
        await watcher.DisposeAsync();

        var after = new Clients(next.SocketChannel());
        Assert.Equal(before, await StateSnapshot.TakeAsync(after));
        var read = await after.Memory.ReadGuestMemoryAsync(new() { Vm = plain.Name, Gpa = (5 * Page) + 100, Size = (ulong)data.Length }, cancellationToken: Ct);
        Assert.Equal(data, read.Data.ToByteArray());
        Assert.Equal(once, (await after.Vms.CreateVmAsync(createOnce, cancellationToken: Ct)).Vm);
        await RpcAssert.FailsAsync(() => after.Events.ResolveFaultAsync(new() { Vm = late.Name, FaultId = lateFault, Action = FaultAction.Convert }, cancellationToken: Ct).ResponseAsync, StatusCode.FailedPrecondition, "FAULT_TIMED_OUT", "fault_id");
        var listed = await after.Events.ListPendingFaultsAsync(new() { Vm = guest.Name }, cancellationToken: Ct);
        Assert.Equal([pending], listed.PendingFaults.Select(f => f.Event.MemoryFault.FaultId));

        // Resumed from the last sequence seen: the resolution in the new process, then the program to its end.
        await using var resumed = Watcher.Start(after, guest.Name, seen[^1].Sequence + 1);
        await after.Events.ResolveFaultAsync(new() { Vm = guest.Name, FaultId = pending, Action = FaultAction.Convert }, cancellationToken: Ct);
        seen.AddRange(await resumed.TakeUntilAsync(e => e.PayloadCase == Event.PayloadOneofCase.VcpuStateChanged && e.VcpuStateChanged.State is VcpuState.Halted or VcpuState.Failed));

        Assert.Equal(Enumerable.Range(1, seen.Count).Select(s => (ulong)s), seen.Select(e => e.Sequence));
        Assert.Equal(VcpuState.Halted, seen[^1].VcpuStateChanged.State);
        Assert.Equal([0x600dU], seen.Where(e => e.PayloadCase == Event.PayloadOneofCase.GuestReport).Select(e => e.GuestReport.Value));
        Assert.DoesNotContain(seen, e => e.PayloadCase == Event.PayloadOneofCase.VmLost);
        Assert.Equal([guest.Uid], seen.Select(e => e.VmUid).Distinct());

        // A watcher from the start in the new process reads the very events the old one's watcher was sent.
        await using var fromStart = Watcher.Start(after, guest.Name);
        Assert.Equal(seen, await fromStart.TakeUntilAsync(e => e.Sequence == seen[^1].Sequence));
        Assert.Contains("took over the VMs of the previous instance", next.Output, StringComparison.Ordinal);
    }

    public void Dispose() => _directory.Delete(recursive: true);
}
