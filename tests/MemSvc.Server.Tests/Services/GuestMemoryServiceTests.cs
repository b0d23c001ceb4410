using Google.Protobuf;
using Grpc.Core;
using MemSvc.Contracts.V1;
using MemSvc.Server.Tests.Infrastructure;
using static MemSvc.Server.Tests.Infrastructure.Steps;

namespace MemSvc.Server.Tests.Services;

/// <summary>GuestMemoryService: guest_memfds, memory regions, attributes, conversion, shared memory.</summary>
public sealed class GuestMemoryServiceTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Guest_memfds_are_numbered_per_VM_listed_by_page_and_gone_once_deleted()
    {
        await using var server = await RunningServer.StartAsync();
        var clients = new Clients(server.LoopbackChannel());
        var vm = (await clients.Vms.CreateVmAsync(new CreateVmRequest { VmId = "m", VmType = VmType.SwProtected, VcpuCount = 1 }, cancellationToken: Ct)).Vm;
        var created = new List<GuestMemfd>();
        for (var i = 1; i <= 3; i++)
        {
            created.Add((await clients.Memory.CreateGuestMemfdAsync(new CreateGuestMemfdRequest { Parent = vm.Name, Size = (ulong)i * MiB, Flags = { GuestMemfdFlag.Mmap } }, cancellationToken: Ct)).GuestMemfd);
        }

        Assert.Equal(["vms/m/guestMemfds/1", "vms/m/guestMemfds/2", "vms/m/guestMemfds/3"], created.Select(m => m.Name));
        Assert.Equal((2 * MiB, "Mmap"), (created[1].Size, string.Join(",", created[1].Flags)));
        Assert.Equal(created[1], (await clients.Memory.GetGuestMemfdAsync(new GetGuestMemfdRequest { Name = created[1].Name }, cancellationToken: Ct)).GuestMemfd);
        var first = await clients.Memory.ListGuestMemfdsAsync(new ListGuestMemfdsRequest { Parent = vm.Name, PageSize = 2 }, cancellationToken: Ct);
        var second = await clients.Memory.ListGuestMemfdsAsync(new ListGuestMemfdsRequest { Parent = vm.Name, PageSize = 2, PageToken = first.NextPageToken }, cancellationToken: Ct);
        Assert.Equal(created, first.GuestMemfds.Concat(second.GuestMemfds));
        Assert.Equal("", second.NextPageToken);

        await clients.Memory.DeleteGuestMemfdAsync(new DeleteGuestMemfdRequest { Name = created[1].Name }, cancellationToken: Ct);

        Assert.Equal([created[0], created[2]], (await clients.Memory.ListGuestMemfdsAsync(new ListGuestMemfdsRequest { Parent = vm.Name }, cancellationToken: Ct)).GuestMemfds);
        var next = (await clients.Memory.CreateGuestMemfdAsync(new CreateGuestMemfdRequest { Parent = vm.Name, Size = MiB }, cancellationToken: Ct)).GuestMemfd;
        Assert.Equal("vms/m/guestMemfds/4", next.Name);
    }

    [Fact]
    public async Task Memory_regions_are_set_got_listed_and_deleted_and_a_deleted_guest_memfd_stays_bound()
    {
        await using var server = await RunningServer.StartAsync();
        var clients = new Clients(server.LoopbackChannel());
        var vm = await Scenario.VmWithMemoryAsync(clients, "r");

        await clients.Memory.DeleteGuestMemfdAsync(new DeleteGuestMemfdRequest { Name = "vms/r/guestMemfds/1" }, cancellationToken: Ct);
        var extra = (await clients.Memory.SetMemoryRegionAsync(new SetMemoryRegionRequest { Parent = vm.Name, Slot = 7, Gpa = 256 * MiB, Size = 2 * MiB }, cancellationToken: Ct)).MemoryRegion;

        Assert.Equal(
            ("vms/r/memoryRegions/7", 7U, 256 * MiB, 2 * MiB, "", SharedBacking.Anonymous, false),
            (extra.Name, extra.Slot, extra.Gpa, extra.Size, extra.GuestMemfd, extra.SharedBacking, extra.BackingRevoked));
        var slot1 = (await clients.Memory.GetMemoryRegionAsync(new GetMemoryRegionRequest { Name = "vms/r/memoryRegions/1" }, cancellationToken: Ct)).MemoryRegion;
        Assert.Equal(
            (32 * MiB, 32 * MiB, "vms/r/guestMemfds/1", 32 * MiB, "GuestMemfd"),
            (slot1.Gpa, slot1.Size, slot1.GuestMemfd, slot1.GuestMemfdOffset, string.Join(",", slot1.Flags)));
        var first = await clients.Memory.ListMemoryRegionsAsync(new ListMemoryRegionsRequest { Parent = vm.Name, PageSize = 2 }, cancellationToken: Ct);
        var second = await clients.Memory.ListMemoryRegionsAsync(new ListMemoryRegionsRequest { Parent = vm.Name, PageToken = first.NextPageToken }, cancellationToken: Ct);
        Assert.Equal([0U, 1U, 7U], first.MemoryRegions.Concat(second.MemoryRegions).Select(r => r.Slot));

        await clients.Memory.DeleteMemoryRegionAsync(new DeleteMemoryRegionRequest { Name = extra.Name }, cancellationToken: Ct);

        Assert.Equal([0U, 1U], (await clients.Memory.ListMemoryRegionsAsync(new ListMemoryRegionsRequest { Parent = vm.Name }, cancellationToken: Ct)).MemoryRegions.Select(r => r.Slot));
    }

    [Fact]
    public async Task Shared_memory_is_written_and_read_back_and_Discard_and_Allocate_act_on_a_gmem_only_slot()
    {
        await using var server = await RunningServer.StartAsync();
        var clients = new Clients(server.LoopbackChannel());
        var vm = (await clients.Vms.CreateVmAsync(new CreateVmRequest { VmId = "g", VcpuCount = 1 }, cancellationToken: Ct)).Vm;
        var memfd = (await clients.Memory.CreateGuestMemfdAsync(
            new CreateGuestMemfdRequest { Parent = vm.Name, Size = MiB, Flags = { GuestMemfdFlag.Mmap, GuestMemfdFlag.InitShared } }, cancellationToken: Ct)).GuestMemfd;
        await clients.Memory.SetMemoryRegionAsync(
            new SetMemoryRegionRequest { Parent = vm.Name, Slot = 0, Gpa = 0, Size = MiB, Flags = { MemoryRegionFlag.GuestMemfd }, GuestMemfd = memfd.Name, SharedBacking = SharedBacking.GuestMemfd },
            cancellationToken: Ct);
        var data = ByteString.CopyFrom([.. Enumerable.Range(0, 5000).Select(i => (byte)(i % 251))]);

        await clients.Memory.AllocateGuestMemfdAsync(new AllocateGuestMemfdRequest { Name = memfd.Name, Offset = 0, Size = MiB }, cancellationToken: Ct);
        var written = await clients.Memory.WriteGuestMemoryAsync(new WriteGuestMemoryRequest { Vm = vm.Name, Gpa = 100, Data = data }, cancellationToken: Ct);
        var read = await clients.Memory.ReadGuestMemoryAsync(new ReadGuestMemoryRequest { Vm = vm.Name, Gpa = 100, Size = 5000 }, cancellationToken: Ct);

        Assert.Equal(5000UL, written.Size);
        Assert.Equal(data, read.Data);

        await clients.Memory.DiscardGuestMemfdAsync(new DiscardGuestMemfdRequest { Name = memfd.Name, Offset = 0, Size = Page }, cancellationToken: Ct);

        var after = (await clients.Memory.ReadGuestMemoryAsync(new ReadGuestMemoryRequest { Vm = vm.Name, Gpa = 100, Size = 5000 }, cancellationToken: Ct)).Data.ToByteArray();
        Assert.All(after[..3996], b => Assert.Equal(0, b));
        Assert.Equal(data.ToByteArray()[3996..], after[3996..]);
    }

    [Fact]
    public async Task Attributes_are_set_and_read_as_runs_and_ConvertMemory_releases_the_side_no_longer_used()
    {
        await using var server = await RunningServer.StartAsync();
        var clients = new Clients(server.LoopbackChannel());
        var vm = await Scenario.VmWithMemoryAsync(clients, "c");
        await clients.Memory.WriteGuestMemoryAsync(new WriteGuestMemoryRequest { Vm = vm.Name, Gpa = 8 * Page, Data = ByteString.CopyFrom(7, 7, 7) }, cancellationToken: Ct);

        await clients.Memory.SetMemoryAttributesAsync(new SetMemoryAttributesRequest { Vm = vm.Name, Gpa = 2 * Page, Size = 2 * Page, Attributes = { MemoryAttribute.Private } }, cancellationToken: Ct);
        var toPrivate = await clients.Memory.ConvertMemoryAsync(new ConvertMemoryRequest { Vm = vm.Name, Gpa = 8 * Page, Size = Page, Target = MemoryVisibility.Private }, cancellationToken: Ct);

        var ranges = await clients.Memory.GetMemoryAttributesAsync(new GetMemoryAttributesRequest { Vm = vm.Name, Gpa = 0, Size = 16 * Page }, cancellationToken: Ct);
        Assert.Equal(
            ["0+2 shared", "2+2 private", "4+4 shared", "8+1 private", "9+7 shared"],
            ranges.Ranges.Select(r => $"{r.Gpa / Page}+{r.Size / Page} {(r.Attributes.Count == 0 ? "shared" : "private")}"));
        await RpcAssert.FailsAsync(() => clients.Memory.ReadGuestMemoryAsync(new ReadGuestMemoryRequest { Vm = vm.Name, Gpa = 8 * Page, Size = 3 }, cancellationToken: Ct).ResponseAsync, StatusCode.FailedPrecondition, "MEMORY_IS_PRIVATE", "gpa");

        var toShared = await clients.Memory.ConvertMemoryAsync(new ConvertMemoryRequest { Vm = vm.Name, Gpa = 8 * Page, Size = Page, Target = MemoryVisibility.Shared }, cancellationToken: Ct);

        Assert.Equal(toPrivate.EventSequence + 1, toShared.EventSequence);
        var back = await clients.Memory.ReadGuestMemoryAsync(new ReadGuestMemoryRequest { Vm = vm.Name, Gpa = 8 * Page, Size = 3 }, cancellationToken: Ct);
        Assert.Equal(ByteString.CopyFrom(0, 0, 0), back.Data);
        await using var watcher = Watcher.Start(clients, vm.Name, toPrivate.EventSequence);
        var applied = (await watcher.NextAsync()).ConversionApplied;
        Assert.Equal((8 * Page, Page, true, ConversionInitiator.Api, 0UL, false), (applied.Gpa, applied.Size, applied.ToPrivate, applied.Initiator, applied.FaultId, applied.HasVcpu));
    }

    [Fact]
    public async Task Revoking_a_gmem_only_region_drops_its_guest_memfd_and_a_guest_access_then_faults()
    {
        await using var server = await RunningServer.StartAsync();
        var clients = new Clients(server.LoopbackChannel());
        var vm = (await clients.Vms.CreateVmAsync(new CreateVmRequest { VmId = "v", VcpuCount = 1, FaultPolicy = FaultPolicy.Orchestrator }, cancellationToken: Ct)).Vm;
        var memfd = (await clients.Memory.CreateGuestMemfdAsync(
            new CreateGuestMemfdRequest { Parent = vm.Name, Size = MiB, Flags = { GuestMemfdFlag.Mmap, GuestMemfdFlag.InitShared } }, cancellationToken: Ct)).GuestMemfd;
        await clients.Memory.SetMemoryRegionAsync(
            new SetMemoryRegionRequest { Parent = vm.Name, Slot = 3, Gpa = MiB, Size = MiB, Flags = { MemoryRegionFlag.GuestMemfd }, GuestMemfd = memfd.Name, SharedBacking = SharedBacking.GuestMemfd },
            cancellationToken: Ct);

        var revoked = (await clients.Memory.RevokeMemoryRegionBackingAsync(new RevokeMemoryRegionBackingRequest { Name = "vms/v/memoryRegions/3" }, cancellationToken: Ct)).MemoryRegion;

        Assert.True(revoked.BackingRevoked);
        Assert.Empty((await clients.Memory.ListGuestMemfdsAsync(new ListGuestMemfdsRequest { Parent = vm.Name }, cancellationToken: Ct)).GuestMemfds);
        await clients.Vcpus.LoadGuestProgramAsync(new LoadGuestProgramRequest { Name = "vms/v/vcpus/0", Program = Program(Write(MiB, 1, AccessIntent.Shared), Halt()) }, cancellationToken: Ct);
        await using var watcher = Watcher.Start(clients, vm.Name, filter: new EventFilter { Kinds = { EventKind.MemoryFault } });
        await clients.Vcpus.StartVcpuAsync(new StartVcpuRequest { Name = "vms/v/vcpus/0" }, cancellationToken: Ct);
        var fault = (await watcher.NextAsync()).MemoryFault;
        Assert.Equal((MiB, Page, false, 0UL), (fault.Gpa, fault.Size, fault.Private, fault.Flags));
        await clients.Events.ResolveFaultAsync(new ResolveFaultRequest { Vm = vm.Name, FaultId = fault.FaultId, Action = FaultAction.Fail }, cancellationToken: Ct);
    }
}
