using System.Net.Sockets;
using System.Text;
using Google.Protobuf.WellKnownTypes;
using MemSvc.Contracts.V1;
using MemSvc.Server.Tests.Infrastructure;
using static MemSvc.Server.Tests.Infrastructure.Steps;

namespace MemSvc.Server.Tests.Hosting;

/// <summary>
/// Issue 16's versioned handoff: a process that cannot read the other's state format is refused before anything
/// stops, and the one serving serves on; a new process that is refused, or finds nobody to take over from, exits 69
/// with the reason. Never both down.
/// </summary>
public sealed class HandoffRefusalTests : IDisposable
{
    private static readonly (string Key, string Value) TakeOver = ("MemSvc:Handoff:TakeOver", "true");

    private readonly DirectoryInfo _directory = Directory.CreateTempSubdirectory("memsvc-handoff-");

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_new_process_announcing_an_unknown_state_version_is_refused_and_the_old_one_serves_on_with_its_vCPU_still_waiting()
    {
        await using var old = await ChildServer.StartInAsync(_directory.FullName);
        var clients = new Clients(old.SocketChannel());
        var vm = await Scenario.VmWithMemoryAsync(clients, "guest", FaultPolicy.Orchestrator, resolutionTimeout: Duration.FromTimeSpan(TimeSpan.FromMinutes(10)));
        var vcpu = vm.Name + "/vcpus/0";
        await clients.Vcpus.LoadGuestProgramAsync(new() { Name = vcpu, Program = Program(Write(0, 0x11, AccessIntent.Private), Check(0, 0x11, AccessIntent.Private), Halt()) }, cancellationToken: Ct);
        await using var watcher = Watcher.Start(clients, vm.Name);
        await clients.Vcpus.StartVcpuAsync(new() { Name = vcpu }, cancellationToken: Ct);
        var fault = (await watcher.TakeUntilAsync(e => e.PayloadCase == Event.PayloadOneofCase.MemoryFault))[^1].MemoryFault.FaultId;

        byte type;
        string answer;
        using (var socket = HandoffWire.Connect(old.SocketPath + ".handoff"))
        await using (var stream = new NetworkStream(socket))
        {
            await HandoffWire.WriteAsync(stream, HandoffWire.Hello, HandoffWire.HelloPayload(999));
            (type, var payload) = await HandoffWire.ReadAsync(stream);
            answer = Encoding.UTF8.GetString(payload);
        }

        Assert.Equal(HandoffWire.Refused, type);
        Assert.Contains("reads handoff state version 999", answer, StringComparison.Ordinal);
        Assert.Contains("writes versions 2 to 4 only", answer, StringComparison.Ordinal);

        // Nothing stopped: the fault is still pending there, resolving it runs the program to its end.
        Assert.False(old.HasExited);
        await clients.Events.ResolveFaultAsync(new() { Vm = vm.Name, FaultId = fault, Action = FaultAction.Convert }, cancellationToken: Ct);
        await Waits.VcpuStateAsync(clients, vcpu, VcpuState.Halted);
        await clients.Vms.CreateVmAsync(new() { VmId = "after", Backend = Backend.Simulated, VcpuCount = 1 }, cancellationToken: Ct);
        Assert.Contains("Refused a planned handoff: the new process reads handoff state version 999", old.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_new_process_that_cannot_adopt_the_state_calls_the_handoff_off_and_the_old_one_runs_its_vCPUs_and_serves_on()
    {
        await using var old = await ChildServer.StartInAsync(_directory.FullName);
        var clients = new Clients(old.SocketChannel());
        var vm = await Scenario.VmWithMemoryAsync(clients, "guest", FaultPolicy.Orchestrator, resolutionTimeout: Duration.FromTimeSpan(TimeSpan.FromMinutes(10)));
        var vcpu = vm.Name + "/vcpus/0";
        await clients.Vcpus.LoadGuestProgramAsync(new() { Name = vcpu, Program = Program(Write(0, 0x22, AccessIntent.Private), Check(0, 0x22, AccessIntent.Private), Report(9), Halt()) }, cancellationToken: Ct);
        await using var watcher = Watcher.Start(clients, vm.Name);
        await clients.Vcpus.StartVcpuAsync(new() { Name = vcpu }, cancellationToken: Ct);
        var events = await watcher.TakeUntilAsync(e => e.PayloadCase == Event.PayloadOneofCase.MemoryFault);
        await Waits.VcpuStateAsync(clients, vcpu, VcpuState.Waiting);

        byte type;
        using (var socket = HandoffWire.Connect(old.SocketPath + ".handoff"))
        await using (var stream = new NetworkStream(socket))
        {
            await HandoffWire.WriteAsync(stream, HandoffWire.Hello, HandoffWire.HelloPayload(2));
            (type, _) = await HandoffWire.ReadAsync(stream);
            Assert.Equal(HandoffWire.RequestIds, (await HandoffWire.ReadAsync(stream)).Type);
            var (descriptors, count) = await HandoffWire.ReadAsync(stream);
            Assert.Equal((HandoffWire.Descriptors, "0,0,0,0,1"), (descriptors, string.Join(',', count)));

            // Frozen now, and admitting no call until it hears back.
            var refused = await RpcAssert.FailsAsync(() => clients.Vms.GetVmAsync(new() { Name = vm.Name }, cancellationToken: Ct).ResponseAsync, Grpc.Core.StatusCode.Unavailable, "HANDOFF_IN_PROGRESS");
            Assert.Contains("send it again", refused.Message, StringComparison.Ordinal);
            await HandoffWire.WriteTextAsync(stream, HandoffWire.Failed, "test: cannot adopt");
            Assert.Equal(-1, stream.ReadByte());
        }

        Assert.Equal(HandoffWire.State, type);
        await clients.Events.ResolveFaultAsync(new() { Vm = vm.Name, FaultId = events[^1].MemoryFault.FaultId, Action = FaultAction.Convert }, cancellationToken: Ct);
        events.AddRange(await watcher.TakeUntilAsync(e => e.PayloadCase == Event.PayloadOneofCase.VcpuStateChanged && e.VcpuStateChanged.State is VcpuState.Halted or VcpuState.Failed));
        Assert.Equal(VcpuState.Halted, events[^1].VcpuStateChanged.State);
        Assert.Equal(Enumerable.Range(1, events.Count).Select(s => (ulong)s), events.Select(e => e.Sequence));
        Assert.False(old.HasExited);
        Assert.Contains("Planned handoff called off: the new process could not adopt the state: test: cannot adopt", old.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_new_process_the_old_one_refuses_exits_69_with_the_reason_without_listening()
    {
        // This test plays the old process, as one of another build would answer.
        var socketPath = Path.Combine(_directory.FullName, "memsvc.sock");
        using var listener = HandoffWire.ListenAsOldServer(_directory.FullName);
        var oldSide = Task.Run(
            async () =>
            {
                using var peer = await listener.AcceptAsync(Ct);
                await using var stream = new NetworkStream(peer);
                var hello = await HandoffWire.ReadAsync(stream);
                await HandoffWire.WriteTextAsync(stream, HandoffWire.Refused, "state version 7 only; not this one");
                return hello;
            },
            Ct);

        var (exitCode, output) = await ChildServer.RunToExitAsync(_directory.FullName, TakeOver);
        var (type, payload) = await oldSide;

        Assert.Equal(HandoffWire.Hello, type);
        Assert.Equal(HandoffWire.HelloPayload(4), payload);
        Assert.Equal(69, exitCode);
        Assert.Contains("refused the handoff: state version 7 only; not this one. It serves on", output, StringComparison.Ordinal);
        Assert.False(File.Exists(socketPath));
    }

    [Fact]
    public async Task A_first_frame_claiming_2_GiB_is_dropped_on_its_header_and_the_old_server_serves_on()
    {
        await using var old = await ChildServer.StartInAsync(_directory.FullName);
        var clients = new Clients(old.SocketChannel());

        int answered;
        using (var socket = await HandoffWire.ConnectWhenListeningAsync(old.SocketPath + ".handoff"))
        await using (var stream = new NetworkStream(socket))
        {
            // Only the header: a server that believed the length would wait for 2 GiB (and allocate them first).
            var header = new byte[9];
            header[0] = HandoffWire.Hello;
            System.Buffers.Binary.BinaryPrimitives.WriteInt64LittleEndian(header.AsSpan(1), Array.MaxLength);
            await stream.WriteAsync(header, Ct);
            using var patience = CancellationTokenSource.CreateLinkedTokenSource(Ct);
            patience.CancelAfter(Watcher.Patience);
            answered = await stream.ReadAsync(new byte[1], patience.Token);
        }

        Assert.Equal(0, answered);
        Assert.False(old.HasExited);
        await clients.Vms.CreateVmAsync(new() { VmId = "after", Backend = Backend.Simulated, VcpuCount = 1 }, cancellationToken: Ct);
        Assert.Contains($"at most {4096}", old.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TakeOver_without_a_server_to_take_over_from_exits_69_saying_so()
    {
        var (exitCode, output) = await ChildServer.RunToExitAsync(_directory.FullName, TakeOver);

        Assert.Equal(69, exitCode);
        Assert.Contains($"no MemSvc listens for a handoff at {Path.Combine(_directory.FullName, "memsvc.sock")}.handoff", output, StringComparison.Ordinal);
    }

    public void Dispose() => _directory.Delete(recursive: true);
}
