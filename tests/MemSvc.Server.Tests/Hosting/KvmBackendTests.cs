using Google.Protobuf;
using MemSvc.Contracts.V1;
using MemSvc.Hypervisor.Kvm;
using MemSvc.Server.Tests.Infrastructure;
using static MemSvc.Server.Tests.Infrastructure.Steps;

namespace MemSvc.Server.Tests.Hosting;

/// <summary>Backend choice with /dev/kvm opened when it can be, and a guest on real KVM where the host has it.</summary>
public sealed class KvmBackendTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Auto_takes_kvm_exactly_when_dev_kvm_opens()
    {
        var available = KvmHypervisor.IsAvailable(out _);
        await using var server = await RunningServer.StartAsync(("MemSvc:OpenKvm", "true"), ("MemSvc:DefaultBackend", "auto"));
        var clients = new Clients(server.LoopbackChannel());

        var host = await clients.Host.GetHostInfoAsync(new GetHostInfoRequest(), cancellationToken: Ct);

        Assert.Equal(available ? Backend.Kvm : Backend.Simulated, host.DefaultBackend);
        Assert.Equal(available ? [Backend.Kvm, Backend.Simulated] : [Backend.Simulated], host.Backends.Select(b => b.Backend));
    }

    [Fact]
    public async Task A_guest_program_runs_on_real_KVM_through_the_API()
    {
        Assert.SkipUnless(KvmHypervisor.IsAvailable(out var reason), reason ?? "");
        await using var server = await RunningServer.StartAsync(("MemSvc:OpenKvm", "true"));
        var clients = new Clients(server.LoopbackChannel());
        var vm = (await clients.Vms.CreateVmAsync(new CreateVmRequest { VmId = "real", Backend = Backend.Kvm, VcpuCount = 1 }, cancellationToken: Ct)).Vm;
        var memfd = (await clients.Memory.CreateGuestMemfdAsync(
            new CreateGuestMemfdRequest { Parent = vm.Name, Size = 2 * MiB, Flags = { GuestMemfdFlag.Mmap, GuestMemfdFlag.InitShared } }, cancellationToken: Ct)).GuestMemfd;
        await clients.Memory.SetMemoryRegionAsync(
            new SetMemoryRegionRequest { Parent = vm.Name, Slot = 1, Gpa = 2 * MiB, Size = 2 * MiB, Flags = { MemoryRegionFlag.GuestMemfd }, GuestMemfd = memfd.Name, SharedBacking = SharedBacking.GuestMemfd },
            cancellationToken: Ct);
        await clients.Memory.WriteGuestMemoryAsync(new WriteGuestMemoryRequest { Vm = vm.Name, Gpa = (2 * MiB) + Page, Data = ByteString.CopyFrom(6, 6, 6, 6) }, cancellationToken: Ct);

        await Waits.RunToHaltAsync(clients, vm.Name, Program(Check((2 * MiB) + Page, 6, AccessIntent.Shared, 4), Write(2 * MiB, 0x5a, AccessIntent.Shared), Report(7), Halt()));

        var read = await clients.Memory.ReadGuestMemoryAsync(new ReadGuestMemoryRequest { Vm = vm.Name, Gpa = 2 * MiB, Size = 2 }, cancellationToken: Ct);
        Assert.Equal([0x5a, 0x5a], read.Data.ToByteArray());
        Assert.Equal(Backend.Kvm, vm.Backend);
    }
}
