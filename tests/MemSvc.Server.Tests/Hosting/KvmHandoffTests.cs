using System.Net.Sockets;
using System.Text;
using Google.Protobuf;
using MemSvc.Contracts.V1;
using MemSvc.Hypervisor.Kvm;
using MemSvc.Server.Tests.Infrastructure;
using static MemSvc.Server.Tests.Infrastructure.Steps;

namespace MemSvc.Server.Tests.Hosting;

/// <summary>
/// Issue 16's planned handoff of kvm VMs, with two real server processes on a real KVM (skipped where /dev/kvm does
/// not open): the new process makes the VM again over the memory the old one passed (its VM and vCPU fds answer only
/// the process that made them), and a vCPU paused in the middle of an 8 MiB write finishes its program there. Where
/// the host has guest_memfd with MMAP|INIT_SHARED, the VM also has one, which moves as a copy.
/// </summary>
public sealed class KvmHandoffTests : IDisposable
{
    private const ulong Slot1 = 2 * MiB;
    private const ulong Big = 8 * MiB;
    private const ulong GmemGpa = 64 * MiB;
    private static readonly (string Key, string Value) Kvm = ("MemSvc:OpenKvm", "true");
    private static readonly (string Key, string Value) TakeOver = ("MemSvc:Handoff:TakeOver", "true");

    private readonly DirectoryInfo _directory = Directory.CreateTempSubdirectory("memsvc-kvm-handoff-");

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    // A real KVM, where two server processes start in reasonable time (not under a software-emulated CPU, unless asked).
    private static void SkipWithoutKvmForTwoServers()
    {
        Assert.SkipUnless(KvmHypervisor.IsAvailable(out var reason), reason ?? "");
        Assert.SkipWhen(SlowHost.WhySlowKvmTestsWait() is not null, SlowHost.WhySlowKvmTestsWait() ?? "");
    }

    [Fact]
    public async Task A_kvm_VM_moves_to_the_new_process_with_its_memory_and_memslots_and_its_paused_vCPU_finishes_its_program_there()
    {
        SkipWithoutKvmForTwoServers();
        await using var old = await ChildServer.StartInAsync(_directory.FullName, Kvm);
        var clients = new Clients(old.SocketChannel());
        var (vm, gmem, data) = await PausedMidProgramAsync(clients);
        var before = await StateSnapshot.TakeAsync(clients);

        await using var next = await ChildServer.StartInAsync(_directory.FullName, Kvm, TakeOver);
        TestContext.Current.TestOutputHelper?.WriteLine(old.Output);
        Assert.Equal(0, await old.ExitCodeAsync());

        var after = new Clients(next.SocketChannel());
        Assert.Equal(before, await StateSnapshot.TakeAsync(after));
        await AssertHostDataAsync(after, vm, gmem, data);
        await FinishAsync(after, vm, gmem);
        Assert.Contains("took over the VMs of the previous instance", next.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_refused_handoff_leaves_the_old_process_serving_with_its_kvm_VM_whose_vCPU_finishes_there()
    {
        SkipWithoutKvmForTwoServers();
        await using var old = await ChildServer.StartInAsync(_directory.FullName, Kvm);
        var clients = new Clients(old.SocketChannel());
        var (vm, gmem, data) = await PausedMidProgramAsync(clients);
        var before = await StateSnapshot.TakeAsync(clients);

        // Another build's state version: refused before anything stops.
        byte type;
        using (var socket = HandoffWire.Connect(old.SocketPath + ".handoff"))
        await using (var stream = new NetworkStream(socket))
        {
            await HandoffWire.WriteAsync(stream, HandoffWire.Hello, HandoffWire.HelloPayload(999));
            (type, _) = await HandoffWire.ReadAsync(stream);
        }

        // A new process without the kvm backend: the state moved, could not be adopted, and the old one thawed.
        int exitCode;
        string output;
        try
        {
            (exitCode, output) = await ChildServer.RunToExitAsync(_directory.FullName, TakeOver);
        }
        catch (TimeoutException)
        {
            TestContext.Current.TestOutputHelper?.WriteLine(old.Output);
            throw;
        }

        Assert.Equal(HandoffWire.Refused, type);
        Assert.Equal(69, exitCode);
        Assert.Contains("no kvm backend", output, StringComparison.Ordinal);
        Assert.False(old.HasExited);
        Assert.Equal(before, await StateSnapshot.TakeAsync(clients));
        await AssertHostDataAsync(clients, vm, gmem, data);
        await FinishAsync(clients, vm, gmem);
    }

    public void Dispose() => _directory.Delete(recursive: true);

    // A kvm VM: slot 1 = [2 MiB, 10 MiB) of anonymous memory (a memfd), host data in it; where guest_memfd allows,
    // slot 2 = [64 MiB, 66 MiB) of an MMAP|INIT_SHARED guest_memfd with host data too. Its vCPU is paused while it
    // writes 8 MiB (or just after), before its checks and report.
    private static async Task<(Vm Vm, bool Gmem, byte[] Data)> PausedMidProgramAsync(Clients clients)
    {
        var info = (await clients.Host.GetHostInfoAsync(new GetHostInfoRequest(), cancellationToken: Ct)).Backends.Single(b => b.Backend == Backend.Kvm);
        var gmem = info.GuestMemfd && info.GuestMemfdFlags.Contains(GuestMemfdFlag.Mmap) && info.GuestMemfdFlags.Contains(GuestMemfdFlag.InitShared);
        var vm = (await clients.Vms.CreateVmAsync(new CreateVmRequest { VmId = "moving", Backend = Backend.Kvm, VcpuCount = 1 }, cancellationToken: Ct)).Vm;
        await clients.Memory.SetMemoryRegionAsync(new SetMemoryRegionRequest { Parent = vm.Name, Slot = 1, Gpa = Slot1, Size = Big, SharedBacking = SharedBacking.Anonymous }, cancellationToken: Ct);
        var data = new byte[(2 * Page) + 5];
        new Random(16).NextBytes(data);
        await clients.Memory.WriteGuestMemoryAsync(new() { Vm = vm.Name, Gpa = Slot1 + Big - (4 * Page), Data = ByteString.CopyFrom(data) }, cancellationToken: Ct);
        if (gmem)
        {
            var memfd = (await clients.Memory.CreateGuestMemfdAsync(new CreateGuestMemfdRequest { Parent = vm.Name, Size = 2 * MiB, Flags = { GuestMemfdFlag.Mmap, GuestMemfdFlag.InitShared } }, cancellationToken: Ct)).GuestMemfd;
            await clients.Memory.SetMemoryRegionAsync(
                new SetMemoryRegionRequest { Parent = vm.Name, Slot = 2, Gpa = GmemGpa, Size = 2 * MiB, Flags = { MemoryRegionFlag.GuestMemfd }, GuestMemfd = memfd.Name, SharedBacking = SharedBacking.GuestMemfd },
                cancellationToken: Ct);
            await clients.Memory.WriteGuestMemoryAsync(new() { Vm = vm.Name, Gpa = GmemGpa + Page, Data = ByteString.CopyFrom(data) }, cancellationToken: Ct);
        }

        var vcpu = vm.Name + "/vcpus/0";
        var steps = new List<GuestStep> { Write(Slot1, 0x5a, AccessIntent.Shared, Big - (8 * Page)), Check(Slot1, 0x5a, AccessIntent.Shared, Big - (8 * Page)) };
        if (gmem)
        {
            steps.Add(Write(GmemGpa + MiB, 0x6b, AccessIntent.Shared, 4 * Page));
        }

        steps.AddRange([Report(0x600d), Halt()]);
        await clients.Vcpus.LoadGuestProgramAsync(new() { Name = vcpu, Program = Program([.. steps]) }, cancellationToken: Ct);
        await clients.Vcpus.StartVcpuAsync(new() { Name = vcpu }, cancellationToken: Ct);
        await clients.Vcpus.PauseVcpuAsync(new() { Name = vcpu }, cancellationToken: Ct);
        var paused = await Waits.VcpuStateAsync(clients, vcpu, VcpuState.Paused);
        TestContext.Current.TestOutputHelper?.WriteLine($"paused: {paused}");
        return (vm, gmem, data);
    }

    // What the host wrote before the handoff reads back, from both kinds of memory.
    private static async Task AssertHostDataAsync(Clients clients, Vm vm, bool gmem, byte[] data)
    {
        var read = await clients.Memory.ReadGuestMemoryAsync(new() { Vm = vm.Name, Gpa = Slot1 + Big - (4 * Page), Size = (ulong)data.Length }, cancellationToken: Ct);
        Assert.Equal(data, read.Data.ToByteArray());
        if (gmem)
        {
            read = await clients.Memory.ReadGuestMemoryAsync(new() { Vm = vm.Name, Gpa = GmemGpa + Page, Size = (ulong)data.Length }, cancellationToken: Ct);
            Assert.Equal(data, read.Data.ToByteArray());
        }
    }

    // The paused vCPU runs again and finishes: its check of the whole 8 MiB passes, it reports and halts.
    private static async Task FinishAsync(Clients clients, Vm vm, bool gmem)
    {
        var vcpu = vm.Name + "/vcpus/0";
        await using var reports = Watcher.Start(clients, vm.Name, filter: new EventFilter { Kinds = { EventKind.GuestReport } });
        await clients.Vcpus.StartVcpuAsync(new() { Name = vcpu }, cancellationToken: Ct);
        var halted = await Waits.VcpuStateAsync(clients, vcpu, VcpuState.Halted);
        Assert.Equal(VcpuState.Halted, halted.State);
        Assert.Equal(0x600dU, (await reports.NextAsync()).GuestReport.Value);
        var read = await clients.Memory.ReadGuestMemoryAsync(new() { Vm = vm.Name, Gpa = Slot1 + Big - (8 * Page) - 1, Size = 1 }, cancellationToken: Ct);
        Assert.Equal([0x5a], read.Data.ToByteArray());
        if (gmem)
        {
            read = await clients.Memory.ReadGuestMemoryAsync(new() { Vm = vm.Name, Gpa = GmemGpa + MiB, Size = 4 * Page }, cancellationToken: Ct);
            Assert.All(read.Data.ToByteArray(), b => Assert.Equal(0x6b, b));
        }
    }
}
