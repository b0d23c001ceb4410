using System.Globalization;
using Grpc.Core;
using MemSvc.Contracts.V1;
using MemSvc.Core.Options;
using MemSvc.Server.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using static MemSvc.Server.Tests.Infrastructure.Steps;

namespace MemSvc.Server.Tests.Security;

/// <summary>MemSvc:Quotas reach Core: exhaustion names the quota, and deleting frees it again.</summary>
public sealed class QuotaTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task The_VM_quota_is_exhausted_with_its_name_and_a_delete_frees_it()
    {
        await using var server = await RunningServer.StartAsync(("MemSvc:Quotas:MaxVmsPerOwner", "1"));
        var clients = new Clients(server.LoopbackChannel());
        await clients.Vms.CreateVmAsync(new() { VmId = "one", VcpuCount = 1, Backend = Backend.Simulated }, cancellationToken: Ct);

        var error = await RpcAssert.FailsAsync(
            () => clients.Vms.CreateVmAsync(new() { VmId = "two", VcpuCount = 1, Backend = Backend.Simulated }, cancellationToken: Ct).ResponseAsync,
            StatusCode.ResourceExhausted,
            "QUOTA_EXCEEDED");
        await clients.Vms.DeleteVmAsync(new() { Name = "vms/one" }, cancellationToken: Ct);
        await clients.Vms.CreateVmAsync(new() { VmId = "two", VcpuCount = 1, Backend = Backend.Simulated }, cancellationToken: Ct);

        Assert.Equal(("max_vms_per_owner", "1"), (error.Info.Metadata["quota"], error.Info.Metadata["limit"]));
    }

    [Fact]
    public async Task The_guest_memory_quota_is_exhausted_with_its_name_and_deleting_the_guest_memfd_frees_it()
    {
        await using var server = await RunningServer.StartAsync(("MemSvc:Quotas:MaxGuestMemoryBytesPerOwner", (2 * MiB).ToString(System.Globalization.CultureInfo.InvariantCulture)));
        var clients = new Clients(server.LoopbackChannel());
        var vm = (await clients.Vms.CreateVmAsync(new() { VmId = "mem", VcpuCount = 1, Backend = Backend.Simulated, VmType = VmType.SwProtected }, cancellationToken: Ct)).Vm;
        var first = (await clients.Memory.CreateGuestMemfdAsync(new() { Parent = vm.Name, Size = 2 * MiB }, cancellationToken: Ct)).GuestMemfd;

        var error = await RpcAssert.FailsAsync(
            () => clients.Memory.CreateGuestMemfdAsync(new() { Parent = vm.Name, Size = Page }, cancellationToken: Ct).ResponseAsync,
            StatusCode.ResourceExhausted,
            "QUOTA_EXCEEDED");
        await clients.Memory.DeleteGuestMemfdAsync(new() { Name = first.Name }, cancellationToken: Ct);
        await clients.Memory.CreateGuestMemfdAsync(new() { Parent = vm.Name, Size = Page }, cancellationToken: Ct);

        Assert.Equal("max_guest_memory_bytes_per_owner", error.Info.Metadata["quota"]);
    }

    [Fact]
    public async Task Guest_memory_past_the_host_cap_is_refused_HOST_MEMORY_EXHAUSTED_with_its_figures_and_changes_nothing()
    {
        // 2 × 3 MiB − 4 MiB = 2 MiB for every owner together, against a per-owner quota of 64 GiB.
        await using var server = await RunningServer.StartAsync(
            builder => builder.Services.AddSingleton<IHostMemory>(new FixedHostMemory(3 * MiB)),
            ("MemSvc:HostMemory:OvercommitRatio", "2"),
            ("MemSvc:HostMemory:ReservedBytes", (4 * MiB).ToString(CultureInfo.InvariantCulture)));
        var clients = new Clients(server.LoopbackChannel());
        var vm = (await clients.Vms.CreateVmAsync(new() { VmId = "host", VcpuCount = 1, Backend = Backend.Simulated }, cancellationToken: Ct)).Vm;
        await clients.Memory.CreateGuestMemfdAsync(new() { Parent = vm.Name, Size = MiB }, cancellationToken: Ct);
        await clients.Memory.SetMemoryRegionAsync(new() { Parent = vm.Name, Slot = 0, Gpa = 0, Size = MiB }, cancellationToken: Ct);

        var memfd = await RpcAssert.FailsAsync(
            () => clients.Memory.CreateGuestMemfdAsync(new() { Parent = vm.Name, Size = Page }, cancellationToken: Ct).ResponseAsync,
            StatusCode.ResourceExhausted,
            "HOST_MEMORY_EXHAUSTED");
        var region = await RpcAssert.FailsAsync(
            () => clients.Memory.SetMemoryRegionAsync(new() { Parent = vm.Name, Slot = 1, Gpa = MiB, Size = Page }, cancellationToken: Ct).ResponseAsync,
            StatusCode.ResourceExhausted,
            "HOST_MEMORY_EXHAUSTED");
        var memfds = await clients.Memory.ListGuestMemfdsAsync(new() { Parent = vm.Name }, cancellationToken: Ct);
        var regions = await clients.Memory.ListMemoryRegionsAsync(new() { Parent = vm.Name }, cancellationToken: Ct);

        Assert.Equal(("2097152", "2101248", "2097152"), (memfd.Info.Metadata["limit"], memfd.Info.Metadata["requested"], memfd.Info.Metadata["in_use"]));
        Assert.Equal("2101248", region.Info.Metadata["requested"]);
        Assert.Equal([1UL], memfds.GuestMemfds.Select(m => ulong.Parse(m.Name.Split('/')[^1], CultureInfo.InvariantCulture)));
        Assert.Equal([0U], regions.MemoryRegions.Select(r => r.Slot));
    }

    [Fact]
    public async Task A_reserve_past_the_hosts_memory_leaves_no_guest_memory_on_any_host()
    {
        // Configuration alone, whatever this machine's memory: the cap is 1.0 × host − 2^64−1, so 0.
        await using var server = await RunningServer.StartAsync(("MemSvc:HostMemory:ReservedBytes", ulong.MaxValue.ToString(CultureInfo.InvariantCulture)));
        var clients = new Clients(server.LoopbackChannel());
        var vm = (await clients.Vms.CreateVmAsync(new() { VmId = "none", VcpuCount = 1, Backend = Backend.Simulated }, cancellationToken: Ct)).Vm;

        var error = await RpcAssert.FailsAsync(
            () => clients.Memory.CreateGuestMemfdAsync(new() { Parent = vm.Name, Size = Page }, cancellationToken: Ct).ResponseAsync,
            StatusCode.ResourceExhausted,
            "HOST_MEMORY_EXHAUSTED");
        var memfds = await clients.Memory.ListGuestMemfdsAsync(new() { Parent = vm.Name }, cancellationToken: Ct);

        Assert.Equal(("0", "4096", "0"), (error.Info.Metadata["limit"], error.Info.Metadata["requested"], error.Info.Metadata["in_use"]));
        Assert.Empty(memfds.GuestMemfds);
    }

    [Fact]
    public async Task The_guest_memfd_count_quota_is_exhausted_with_its_name_and_deleting_one_frees_it()
    {
        await using var server = await RunningServer.StartAsync(("MemSvc:Quotas:MaxGuestMemfdsPerOwner", "2"));
        var clients = new Clients(server.LoopbackChannel());
        var vm = (await clients.Vms.CreateVmAsync(new() { VmId = "files", VcpuCount = 1, Backend = Backend.Simulated }, cancellationToken: Ct)).Vm;
        var first = (await clients.Memory.CreateGuestMemfdAsync(new() { Parent = vm.Name, Size = Page }, cancellationToken: Ct)).GuestMemfd;
        await clients.Memory.CreateGuestMemfdAsync(new() { Parent = vm.Name, Size = Page }, cancellationToken: Ct);

        var error = await RpcAssert.FailsAsync(
            () => clients.Memory.CreateGuestMemfdAsync(new() { Parent = vm.Name, Size = Page }, cancellationToken: Ct).ResponseAsync,
            StatusCode.ResourceExhausted,
            "QUOTA_EXCEEDED");
        var afterRefusal = (await clients.Memory.ListGuestMemfdsAsync(new() { Parent = vm.Name }, cancellationToken: Ct)).GuestMemfds.Count;
        await clients.Memory.DeleteGuestMemfdAsync(new() { Name = first.Name }, cancellationToken: Ct);
        await clients.Memory.CreateGuestMemfdAsync(new() { Parent = vm.Name, Size = Page }, cancellationToken: Ct);

        Assert.Equal(("max_guest_memfds_per_owner", "2", "3"), (error.Info.Metadata["quota"], error.Info.Metadata["limit"], error.Info.Metadata["requested"]));
        Assert.Equal(2, afterRefusal);
    }

    [Fact]
    public async Task The_memslot_quota_is_exhausted_with_its_name_and_deleting_a_region_frees_it()
    {
        await using var server = await RunningServer.StartAsync(("MemSvc:Quotas:MaxMemslotsPerVm", "1"));
        var clients = new Clients(server.LoopbackChannel());
        var vm = (await clients.Vms.CreateVmAsync(new() { VmId = "slots", VcpuCount = 1, Backend = Backend.Simulated }, cancellationToken: Ct)).Vm;
        await clients.Memory.SetMemoryRegionAsync(new() { Parent = vm.Name, Slot = 0, Gpa = 0, Size = Page }, cancellationToken: Ct);

        var error = await RpcAssert.FailsAsync(
            () => clients.Memory.SetMemoryRegionAsync(new() { Parent = vm.Name, Slot = 1, Gpa = MiB, Size = Page }, cancellationToken: Ct).ResponseAsync,
            StatusCode.ResourceExhausted,
            "QUOTA_EXCEEDED");
        var regionsAfterRefusal = await clients.Memory.ListMemoryRegionsAsync(new() { Parent = vm.Name }, cancellationToken: Ct);
        await clients.Memory.DeleteMemoryRegionAsync(new() { Name = $"{vm.Name}/memoryRegions/0" }, cancellationToken: Ct);
        await clients.Memory.SetMemoryRegionAsync(new() { Parent = vm.Name, Slot = 1, Gpa = MiB, Size = Page }, cancellationToken: Ct);

        Assert.Equal(("max_memslots_per_vm", "1"), (error.Info.Metadata["quota"], error.Info.Metadata["limit"]));
        Assert.Equal([0U], regionsAfterRefusal.MemoryRegions.Select(r => r.Slot));
    }

    [Fact]
    public async Task The_vCPU_limit_per_VM_comes_from_configuration()
    {
        await using var server = await RunningServer.StartAsync(("MemSvc:Quotas:MaxVcpusPerVm", "2"));
        var clients = new Clients(server.LoopbackChannel());

        var e = await Assert.ThrowsAsync<RpcException>(() => clients.Vms.CreateVmAsync(new() { VmId = "big", VcpuCount = 3, Backend = Backend.Simulated }, cancellationToken: Ct).ResponseAsync);
        await clients.Vms.CreateVmAsync(new() { VmId = "small", VcpuCount = 2, Backend = Backend.Simulated }, cancellationToken: Ct);

        Assert.NotEqual(StatusCode.OK, e.StatusCode);
        Assert.Contains("max_vcpus_per_vm", RpcError.From(e).Message + string.Join(",", RpcError.From(e).Info.Metadata.Values), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_request_larger_than_MaxReceiveMessageBytes_is_refused_RESOURCE_EXHAUSTED()
    {
        await using var server = await RunningServer.StartAsync(("MemSvc:MaxReceiveMessageBytes", "65536"));
        var clients = new Clients(server.LoopbackChannel());

        var e = await Assert.ThrowsAsync<RpcException>(() => clients.Memory.WriteGuestMemoryAsync(
            new() { Vm = "vms/none", Gpa = 0, Data = Google.Protobuf.ByteString.CopyFrom(new byte[128 << 10]) }, cancellationToken: Ct).ResponseAsync);

        Assert.Equal(StatusCode.ResourceExhausted, e.StatusCode);
    }

    private sealed class FixedHostMemory(ulong bytes) : IHostMemory
    {
        public ulong AvailableBytes() => bytes;
    }
}
