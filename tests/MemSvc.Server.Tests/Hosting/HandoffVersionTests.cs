using System.Net.Sockets;
using System.Text.Json;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using MemSvc.Contracts.V1;
using MemSvc.Server.Tests.Infrastructure;
using static MemSvc.Server.Tests.Infrastructure.Steps;

namespace MemSvc.Server.Tests.Hosting;

/// <summary>
/// Issue 16's versions across releases: this build speaks handoff versions 2 and 3, so that the release before it
/// (version 2) takes over from it (a downgrade) and it from that release (an upgrade). The tests play the other
/// release on the wire, as that build writes it.
/// </summary>
public sealed class HandoffVersionTests : IDisposable
{
    // What a release of version 2 answers a hello it cannot serve, word for word (HandoffListener at commit 0bd7c0d).
    private const string Version2Refusal = "the new process reads handoff state version 3, and this MemSvc (pid 4242) writes version 2 only; it cannot take over (upgrade through a release that reads version 2)";

    // What a release of version 3 answers a hello of version 4 (HandoffListener at commit 5270f46).
    private const string Version3Refusal = "the new process reads handoff state version 4, and this MemSvc (pid 4242) writes versions 2 to 3 only; it cannot take over (upgrade through a release that reads one of them)";

    private readonly DirectoryInfo _directory = Directory.CreateTempSubdirectory("memsvc-handoff-");

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_release_of_version_2_takes_over_from_this_one_with_a_version_2_state_and_no_released_frame()
    {
        await using var old = await ChildServer.StartInAsync(_directory.FullName);
        var clients = new Clients(old.SocketChannel());
        var vm = await Scenario.VmWithMemoryAsync(clients, "guest", FaultPolicy.Orchestrator, resolutionTimeout: Duration.FromTimeSpan(TimeSpan.FromMinutes(10)));

        using var socket = await HandoffWire.ConnectWhenListeningAsync(old.SocketPath + ".handoff");
        await using var stream = new NetworkStream(socket);
        await HandoffWire.WriteAsync(stream, HandoffWire.Hello, HandoffWire.HelloPayload(2));
        var (type, state) = await HandoffWire.ReadAsync(stream);
        Assert.Equal(HandoffWire.State, type);
        Assert.Equal(HandoffWire.RequestIds, (await HandoffWire.ReadAsync(stream)).Type);
        Assert.Equal(HandoffWire.Descriptors, (await HandoffWire.ReadAsync(stream)).Type);
        await HandoffWire.WriteAsync(stream, HandoffWire.Adopted, []);

        // Version 2's end: the old process exits, and says nothing more.
        Assert.Equal(-1, stream.ReadByte());
        Assert.Equal(0, await old.ExitCodeAsync());
        using var json = JsonDocument.Parse(state);
        Assert.Equal(2, json.RootElement.GetProperty("Version").GetInt32());
        Assert.Equal(["guest"], json.RootElement.GetProperty("Vms").EnumerateArray().Select(v => v.GetProperty("VmId").GetString()));
    }

    [Fact]
    public async Task A_new_process_of_version_3_gets_the_journals_before_the_freeze_and_is_told_released_after_its_adoption()
    {
        await using var old = await ChildServer.StartInAsync(_directory.FullName);
        var clients = new Clients(old.SocketChannel());
        var vm = await Scenario.VmWithMemoryAsync(clients, "guest", FaultPolicy.Orchestrator);
        var vcpu = vm.Name + "/vcpus/0";
        await clients.Vcpus.LoadGuestProgramAsync(new() { Name = vcpu, Program = Program(Report(7), Report(8), Halt()) }, cancellationToken: Ct);
        await clients.Vcpus.StartVcpuAsync(new() { Name = vcpu }, cancellationToken: Ct);
        await Waits.VcpuStateAsync(clients, vcpu, VcpuState.Halted);

        using var socket = await HandoffWire.ConnectWhenListeningAsync(old.SocketPath + ".handoff");
        await using var stream = new NetworkStream(socket);
        await HandoffWire.WriteAsync(stream, HandoffWire.Hello, HandoffWire.HelloPayload(3));
        var (copy, journals) = await HandoffWire.ReadAsync(stream);

        // Nothing is frozen while the journals are read: the server still answers.
        var running = (await clients.Vms.GetVmAsync(new() { Name = vm.Name }, cancellationToken: Ct)).Vm;
        await HandoffWire.WriteAsync(stream, HandoffWire.Copied, []);
        var (type, state) = await HandoffWire.ReadAsync(stream);
        await HandoffWire.ReadAsync(stream);
        await HandoffWire.ReadAsync(stream);
        await HandoffWire.WriteAsync(stream, HandoffWire.Adopted, []);

        var (released, said) = await HandoffWire.ReadAsync(stream);
        Assert.Equal((HandoffWire.Released, 0), (released, said.Length));
        Assert.Equal(-1, stream.ReadByte());
        Assert.Equal(0, await old.ExitCodeAsync());
        Assert.Equal((HandoffWire.Journals, HandoffWire.State), (copy, type));
        using var copied = JsonDocument.Parse(journals);
        var journal = Assert.Single(copied.RootElement.GetProperty("Journals").EnumerateArray());
        Assert.Equal(("guest", vm.Uid), (journal.GetProperty("VmId").GetString(), journal.GetProperty("Uid").GetString()));
        using var json = JsonDocument.Parse(state);
        Assert.Equal(3, json.RootElement.GetProperty("Version").GetInt32());
        var frozen = Assert.Single(json.RootElement.GetProperty("Vms").EnumerateArray());

        // The copy held every event so far; the frozen state only what came after it (none here).
        Assert.Equal((int)running.LastEventSequence, journal.GetProperty("Events").GetArrayLength());
        Assert.True(running.LastEventSequence >= 4, $"{running.LastEventSequence} events: two reports and the vCPU's states");
        Assert.Equal(0, frozen.GetProperty("Events").GetArrayLength());
    }

    [Fact]
    public async Task Version_4_sends_programs_and_memory_with_the_journals_and_the_frozen_state_carries_only_what_changed_since()
    {
        await using var old = await ChildServer.StartInAsync(_directory.FullName);
        var clients = new Clients(old.SocketChannel());
        var kept = await Scenario.VmWithMemoryAsync(clients, "kept", FaultPolicy.Orchestrator);
        var reloaded = await Scenario.VmWithMemoryAsync(clients, "reloaded", FaultPolicy.Orchestrator);
        foreach (var vm in new[] { kept, reloaded })
        {
            var vcpu = vm.Name + "/vcpus/0";
            await clients.Vcpus.LoadGuestProgramAsync(new() { Name = vcpu, Program = Program(Report(7), Halt()) }, cancellationToken: Ct);
            await clients.Vcpus.StartVcpuAsync(new() { Name = vcpu }, cancellationToken: Ct);
            await Waits.VcpuStateAsync(clients, vcpu, VcpuState.Halted);
            await clients.Memory.WriteGuestMemoryAsync(new() { Vm = vm.Name, Gpa = 0x10, Data = ByteString.CopyFrom(1, 2, 3) }, cancellationToken: Ct);
        }

        using var socket = await HandoffWire.ConnectWhenListeningAsync(old.SocketPath + ".handoff");
        await using var stream = new NetworkStream(socket);
        await HandoffWire.WriteAsync(stream, HandoffWire.Hello, HandoffWire.HelloPayload(4));
        var (_, journals) = await HandoffWire.ReadAsync(stream);

        // Loaded and written after the copy, before the freeze: the program sent is no longer this vCPU's, and slot 0's
        // shared side is not as sent.
        await clients.Vcpus.LoadGuestProgramAsync(new() { Name = reloaded.Name + "/vcpus/0", Program = Program(Report(9), Report(10), Halt()) }, cancellationToken: Ct);
        await clients.Memory.WriteGuestMemoryAsync(new() { Vm = reloaded.Name, Gpa = 0x20, Data = ByteString.CopyFrom(4) }, cancellationToken: Ct);
        await HandoffWire.WriteAsync(stream, HandoffWire.Copied, []);
        var (_, state) = await HandoffWire.ReadAsync(stream);
        await HandoffWire.ReadAsync(stream);
        await HandoffWire.ReadAsync(stream);
        await HandoffWire.WriteAsync(stream, HandoffWire.Adopted, []);
        Assert.Equal(HandoffWire.Released, (await HandoffWire.ReadAsync(stream)).Type);
        Assert.Equal(0, await old.ExitCodeAsync());

        using var copied = JsonDocument.Parse(journals);
        var sent = copied.RootElement.GetProperty("Programs").EnumerateArray()
            .Select(p => (p.GetProperty("Uid").GetString(), p.GetProperty("Vcpu").GetInt32(), p.GetProperty("Steps").EnumerateArray().Select(s => s.GetProperty("Kind").GetString()).ToList()))
            .OrderBy(p => p.Item1 == kept.Uid ? 0 : 1);
        Assert.Equal([(kept.Uid, 0, ["report", "halt"]), (reloaded.Uid, 0, ["report", "halt"])], sent);
        using var json = JsonDocument.Parse(state);
        Assert.Equal(4, json.RootElement.GetProperty("Version").GetInt32());
        var vcpus = json.RootElement.GetProperty("Vms").EnumerateArray().ToDictionary(
            v => v.GetProperty("VmId").GetString()!,
            v => v.GetProperty("Backend").GetProperty("Vcpus")[0]);
        Assert.Equal((JsonValueKind.Null, true), (vcpus["kept"].GetProperty("Program").ValueKind, vcpus["kept"].GetProperty("ProgramSentAhead").GetBoolean()));
        Assert.Equal([9u, 10u, 0u], vcpus["reloaded"].GetProperty("Program").EnumerateArray().Select(s => s.GetProperty("Value").GetUInt32()));
        Assert.False(vcpus["reloaded"].GetProperty("ProgramSentAhead").GetBoolean());

        // Every VM's three stores (its guest_memfd, its two slots' shared sides) went ahead; at the freeze only the one
        // written since moves again.
        Assert.Equal(6, copied.RootElement.GetProperty("Contents").GetArrayLength());
        var sharedSides = json.RootElement.GetProperty("Vms").EnumerateArray().ToDictionary(
            v => v.GetProperty("VmId").GetString()!,
            v => v.GetProperty("Backend").GetProperty("Slots").EnumerateArray().Select(s => s.GetProperty("OwnedMapping").GetProperty("ContentsSentAhead").GetBoolean()).ToList());
        Assert.Equal([true, true], sharedSides["kept"]);
        Assert.Equal([false, true], sharedSides["reloaded"]);
    }

    [Fact]
    public async Task A_new_process_refused_for_its_version_by_older_releases_asks_again_with_each_older_version()
    {
        // This test plays old processes of the releases before: version 4 refused in version 3's words, version 3 in
        // version 2's, then the version 2 hello refused for another reason, which the new process reports as it exits 69.
        using var listener = HandoffWire.ListenAsOldServer(_directory.FullName);
        var oldSide = Task.Run(
            async () =>
            {
                var hellos = new List<byte[]>();
                foreach (var answer in new[] { Version3Refusal, Version2Refusal, "vm 'x' of owner 'y': private memory; delete such VMs or restart instead" })
                {
                    using var peer = await listener.AcceptAsync(Ct);
                    await using var stream = new NetworkStream(peer);
                    hellos.Add((await HandoffWire.ReadAsync(stream)).Payload);
                    await HandoffWire.WriteTextAsync(stream, HandoffWire.Refused, answer);
                }

                return hellos;
            },
            Ct);

        var (exitCode, output) = await ChildServer.RunToExitAsync(_directory.FullName, ("MemSvc:Handoff:TakeOver", "true"));
        var hellos = await oldSide;

        Assert.Equal([HandoffWire.HelloPayload(4), HandoffWire.HelloPayload(3), HandoffWire.HelloPayload(2)], hellos);
        Assert.Equal(69, exitCode);
        Assert.Contains("refused the handoff: vm 'x' of owner 'y': private memory; delete such VMs or restart instead. It serves on", output, StringComparison.Ordinal);
    }

    public void Dispose() => _directory.Delete(recursive: true);
}
