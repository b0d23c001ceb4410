using Google.Protobuf;
using Grpc.Core;
using MemSvc.Contracts.V1;
using MemSvc.Hypervisor.Kvm;
using MemSvc.Server.Tests.Infrastructure;
using static MemSvc.Server.Tests.Infrastructure.Steps;

namespace MemSvc.Server.Tests.Hosting;

/// <summary>
/// The API on real KVM, for whatever the host has: a guest over anonymous memory on every KVM host, a clear refusal
/// where guest_memfd is missing, and the real KVM_EXIT_MEMORY_FAULT streamed to a watcher where it exists. Each
/// test reads the kvm backend's capabilities from GetHostInfo, as a client would, and is skipped naming what the
/// host lacks.
/// </summary>
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
    public async Task A_guest_program_runs_on_real_KVM_over_anonymous_memory_through_the_API()
    {
        await using var kvm = await KvmServer.StartAsync();
        var clients = kvm.Clients;
        var vm = (await clients.Vms.CreateVmAsync(new CreateVmRequest { VmId = "real", Backend = Backend.Kvm, VcpuCount = 1 }, cancellationToken: Ct)).Vm;
        await clients.Memory.SetMemoryRegionAsync(
            new SetMemoryRegionRequest { Parent = vm.Name, Slot = 1, Gpa = 2 * MiB, Size = 2 * MiB, SharedBacking = SharedBacking.Anonymous },
            cancellationToken: Ct);
        await clients.Memory.WriteGuestMemoryAsync(new WriteGuestMemoryRequest { Vm = vm.Name, Gpa = (2 * MiB) + Page, Data = ByteString.CopyFrom(6, 6, 6, 6) }, cancellationToken: Ct);
        await using var reports = Watcher.Start(clients, vm.Name, filter: new EventFilter { Kinds = { EventKind.GuestReport } });

        await Waits.RunToHaltAsync(clients, vm.Name, Program(Check((2 * MiB) + Page, 6, AccessIntent.Shared, 4), Write(2 * MiB, 0x5a, AccessIntent.Shared), Report(7), Halt()));

        Assert.Equal(7U, (await reports.NextAsync()).GuestReport.Value);
        var read = await clients.Memory.ReadGuestMemoryAsync(new ReadGuestMemoryRequest { Vm = vm.Name, Gpa = 2 * MiB, Size = 2 }, cancellationToken: Ct);
        Assert.Equal([0x5a, 0x5a], read.Data.ToByteArray());
        Assert.Equal(Backend.Kvm, vm.Backend);
    }

    [Fact]
    public async Task Without_guest_memfd_CreateGuestMemfd_fails_FAILED_PRECONDITION_naming_the_capability()
    {
        await using var kvm = await KvmServer.StartAsync();
        Assert.SkipWhen(kvm.Info.GuestMemfd, "this KVM host has guest_memfd (KVM_CAP_GUEST_MEMFD=1)");
        var vm = (await kvm.Clients.Vms.CreateVmAsync(new CreateVmRequest { VmId = "nogmem", Backend = Backend.Kvm, VcpuCount = 1 }, cancellationToken: Ct)).Vm;

        var error = await RpcAssert.FailsAsync(
            () => kvm.Clients.Memory.CreateGuestMemfdAsync(new CreateGuestMemfdRequest { Parent = vm.Name, Size = 2 * MiB }, cancellationToken: Ct).ResponseAsync,
            StatusCode.FailedPrecondition,
            "GUEST_MEMFD_UNSUPPORTED");

        Assert.Equal(("KVM_CAP_GUEST_MEMFD", "ENOTTY"), (error.Info.Metadata["capability"], error.Info.Metadata["errno"]));
        Assert.Empty((await kvm.Clients.Memory.ListGuestMemfdsAsync(new ListGuestMemfdsRequest { Parent = vm.Name }, cancellationToken: Ct)).GuestMemfds);
    }

    [Fact]
    public async Task A_real_memory_fault_streams_to_a_watcher_with_its_gpa_size_and_flags_and_the_vm_recovers()
    {
        await using var kvm = await KvmServer.StartAsync();
        var flags = kvm.Info.GuestMemfdFlags;
        Assert.SkipUnless(
            kvm.Info.GuestMemfd && flags.Contains(GuestMemfdFlag.Mmap) && flags.Contains(GuestMemfdFlag.InitShared) && kvm.Info.MemoryFaultInfo,
            $"needs guest_memfd with MMAP|INIT_SHARED and KVM_CAP_MEMORY_FAULT_INFO; this KVM host has guest_memfd={kvm.Info.GuestMemfd}, flags=[{string.Join(",", flags)}], memory_fault_info={kvm.Info.MemoryFaultInfo}");
        var clients = kvm.Clients;
        var vm = (await clients.Vms.CreateVmAsync(
            new CreateVmRequest { VmId = "faulty", Backend = Backend.Kvm, VcpuCount = 1, FaultPolicy = FaultPolicy.Orchestrator },
            cancellationToken: Ct)).Vm;
        await BindGmemOnlySlotAsync(clients, vm.Name);
        await clients.Memory.RevokeMemoryRegionBackingAsync(new RevokeMemoryRegionBackingRequest { Name = vm.Name + "/memoryRegions/3" }, cancellationToken: Ct);
        await using var watcher = Watcher.Start(clients, vm.Name, filter: new EventFilter { Kinds = { EventKind.MemoryFault } });
        await clients.Vcpus.LoadGuestProgramAsync(
            new LoadGuestProgramRequest { Name = vm.Name + "/vcpus/0", Program = Program(Write((8 * MiB) + 0x100, 0x5a, AccessIntent.Shared), Report(2), Halt()) },
            cancellationToken: Ct);
        await clients.Vcpus.StartVcpuAsync(new StartVcpuRequest { Name = vm.Name + "/vcpus/0" }, cancellationToken: Ct);

        // KVM_RUN: -1/EFAULT, exit 39, flags 0, the faulting page (kvm/nested/README.md, the probe's memfault.c).
        var fault = (await watcher.NextAsync()).MemoryFault;
        Assert.Equal((8 * MiB, Page, false, 0UL), (fault.Gpa, fault.Size, fault.Private, fault.Flags));

        // Recovery as the kernel allows it: the slot is deleted and bound again to a fresh guest_memfd, then retried.
        await clients.Memory.DeleteMemoryRegionAsync(new DeleteMemoryRegionRequest { Name = vm.Name + "/memoryRegions/3" }, cancellationToken: Ct);
        await BindGmemOnlySlotAsync(clients, vm.Name);
        await clients.Events.ResolveFaultAsync(new ResolveFaultRequest { Vm = vm.Name, FaultId = fault.FaultId, Action = FaultAction.Retry }, cancellationToken: Ct);
        await Waits.VcpuStateAsync(clients, vm.Name + "/vcpus/0", VcpuState.Halted);

        var read = await clients.Memory.ReadGuestMemoryAsync(new ReadGuestMemoryRequest { Vm = vm.Name, Gpa = (8 * MiB) + 0x100, Size = 2 }, cancellationToken: Ct);
        Assert.Equal([0x5a, 0x5a], read.Data.ToByteArray());
    }

    // Slot 3 = [8 MiB, 10 MiB) served only by a fresh MMAP|INIT_SHARED guest_memfd (its own shared side).
    private static async Task BindGmemOnlySlotAsync(Clients clients, string vm)
    {
        var memfd = (await clients.Memory.CreateGuestMemfdAsync(
            new CreateGuestMemfdRequest { Parent = vm, Size = 2 * MiB, Flags = { GuestMemfdFlag.Mmap, GuestMemfdFlag.InitShared } }, cancellationToken: Ct)).GuestMemfd;
        await clients.Memory.SetMemoryRegionAsync(
            new SetMemoryRegionRequest { Parent = vm, Slot = 3, Gpa = 8 * MiB, Size = 2 * MiB, Flags = { MemoryRegionFlag.GuestMemfd }, GuestMemfd = memfd.Name, SharedBacking = SharedBacking.GuestMemfd },
            cancellationToken: Ct);
    }

    /// <summary>A server with the kvm backend open, and the kvm backend's capabilities as GetHostInfo reports them.</summary>
    private sealed class KvmServer : IAsyncDisposable
    {
        private readonly RunningServer _server;

        private KvmServer(RunningServer server, Clients clients, BackendInfo info) => (_server, Clients, Info) = (server, clients, info);

        public Clients Clients { get; }

        public BackendInfo Info { get; }

        public static async Task<KvmServer> StartAsync()
        {
            Assert.SkipUnless(KvmHypervisor.IsAvailable(out var reason), reason ?? "");
            var server = await RunningServer.StartAsync(("MemSvc:OpenKvm", "true"));
            var clients = new Clients(server.LoopbackChannel());
            var host = await clients.Host.GetHostInfoAsync(new GetHostInfoRequest(), cancellationToken: Ct);
            return new KvmServer(server, clients, host.Backends.Single(b => b.Backend == Backend.Kvm));
        }

        public ValueTask DisposeAsync() => _server.DisposeAsync();
    }
}
