using MemSvc.Contracts.V1;
using MemSvc.Server.Tests.Infrastructure;

namespace MemSvc.Server.Tests.Services;

/// <summary>HostService and VmService through the generated clients.</summary>
public sealed class HostAndVmServiceTests
{
    [Fact]
    public async Task GetHostInfo_reports_the_simulated_backend_its_capabilities_and_the_configured_limits()
    {
        await using var server = await RunningServer.StartAsync(("MemSvc:JournalRetention", "512"), ("MemSvc:ResolutionTimeout", "00:00:07"));
        var clients = new Clients(server.LoopbackChannel());

        var host = await clients.Host.GetHostInfoAsync(new GetHostInfoRequest(), cancellationToken: TestContext.Current.CancellationToken);

        Assert.Equal(Backend.Simulated, host.DefaultBackend);
        Assert.Equal((512UL, 7L), (host.JournalRetention, host.DefaultResolutionTimeout.Seconds));
        Assert.False(string.IsNullOrEmpty(host.ServerVersion));
        var simulated = Assert.Single(host.Backends);
        Assert.Equal(Backend.Simulated, simulated.Backend);
        Assert.Equal([VmType.Default, VmType.SwProtected, VmType.Snp, VmType.Tdx], simulated.VmTypes);
        Assert.Equal([GuestMemfdFlag.Mmap, GuestMemfdFlag.InitShared], simulated.GuestMemfdFlags);
        Assert.Equal([MemoryAttribute.Private], simulated.MemoryAttributes);
        Assert.True(simulated.GuestMemfd && simulated.UserMemory2 && simulated.MemoryFaultInfo);
        Assert.Equal(12, simulated.ApiVersion);
        Assert.True(simulated.MaxMemslots > 0 && simulated.MaxVcpus > 0);
        Assert.False(string.IsNullOrEmpty(simulated.KernelVersion));
        Assert.NotEmpty(simulated.Capabilities);
    }

    [Fact]
    public async Task CreateVm_fills_defaults_and_GetVm_ListVms_DeleteVm_see_it()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var server = await RunningServer.StartAsync();
        var clients = new Clients(server.LoopbackChannel());

        var created = (await clients.Vms.CreateVmAsync(new CreateVmRequest { VcpuCount = 3 }, cancellationToken: ct)).Vm;

        Assert.Matches("^vms/vm-[0-9a-f]{8}$", created.Name);
        Assert.Equal(
            ("local", Backend.Simulated, VmType.Default, 3U, FaultPolicy.Auto, 30L, FaultAction.Fail, VmState.Ready),
            (created.Owner, created.Backend, created.VmType, created.VcpuCount, created.FaultPolicy, created.ResolutionTimeout.Seconds, created.TimeoutFallback, created.State));
        Assert.NotNull(created.CreateTime);
        Assert.Equal(created, (await clients.Vms.GetVmAsync(new GetVmRequest { Name = created.Name }, cancellationToken: ct)).Vm);
        Assert.Equal([created], (await clients.Vms.ListVmsAsync(new ListVmsRequest(), cancellationToken: ct)).Vms);

        await clients.Vms.DeleteVmAsync(new DeleteVmRequest { Name = created.Name }, cancellationToken: ct);

        Assert.Empty((await clients.Vms.ListVmsAsync(new ListVmsRequest(), cancellationToken: ct)).Vms);
        await RpcAssert.FailsAsync(() => clients.Vms.GetVmAsync(new GetVmRequest { Name = created.Name }, cancellationToken: ct).ResponseAsync, Grpc.Core.StatusCode.NotFound, "VM_NOT_FOUND");
    }

    [Fact]
    public async Task CreateVm_keeps_every_setting_asked_for()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var server = await RunningServer.StartAsync();
        var clients = new Clients(server.LoopbackChannel());

        var vm = (await clients.Vms.CreateVmAsync(
            new CreateVmRequest
            {
                VmId = "tdx-1",
                Backend = Backend.Simulated,
                VmType = VmType.Tdx,
                VcpuCount = 2,
                FaultPolicy = FaultPolicy.Orchestrator,
                ResolutionTimeout = new() { Nanos = 250_000_000 },
                TimeoutFallback = FaultAction.Convert,
            },
            cancellationToken: ct)).Vm;

        Assert.Equal(
            ("vms/tdx-1", VmType.Tdx, 2U, FaultPolicy.Orchestrator, 250_000_000, FaultAction.Convert),
            (vm.Name, vm.VmType, vm.VcpuCount, vm.FaultPolicy, vm.ResolutionTimeout.Nanos, vm.TimeoutFallback));
    }

    [Fact]
    public async Task A_retried_CreateVm_with_the_same_request_id_returns_the_same_VM_and_a_changed_one_is_refused()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var server = await RunningServer.StartAsync();
        var clients = new Clients(server.LoopbackChannel());
        var request = new CreateVmRequest { VcpuCount = 1, RequestId = "7c0e5a52-1111-4d3c-9d0b-5f3e2f7b8a90" };

        var first = (await clients.Vms.CreateVmAsync(request, cancellationToken: ct)).Vm;
        var retry = (await clients.Vms.CreateVmAsync(request, cancellationToken: ct)).Vm;

        Assert.Equal(first, retry);
        Assert.Single((await clients.Vms.ListVmsAsync(new ListVmsRequest(), cancellationToken: ct)).Vms);
        var changed = request.Clone();
        changed.VcpuCount = 2;
        await RpcAssert.FailsAsync(() => clients.Vms.CreateVmAsync(changed, cancellationToken: ct).ResponseAsync, Grpc.Core.StatusCode.InvalidArgument, "REQUEST_ID_REUSED", "request_id");
        Assert.Single((await clients.Vms.ListVmsAsync(new ListVmsRequest(), cancellationToken: ct)).Vms);
    }

    [Fact]
    public async Task A_retried_CreateGuestMemfd_with_the_same_request_id_returns_the_same_file_and_a_changed_one_is_refused()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var server = await RunningServer.StartAsync();
        var clients = new Clients(server.LoopbackChannel());
        await clients.Vms.CreateVmAsync(new CreateVmRequest { VmId = "files", VcpuCount = 1 }, cancellationToken: ct);
        var request = new CreateGuestMemfdRequest { Parent = "vms/files", Size = 2 * 1024 * 1024, RequestId = "0f4c2b7e-2222-4d3c-9d0b-5f3e2f7b8a90" };

        var first = (await clients.Memory.CreateGuestMemfdAsync(request, cancellationToken: ct)).GuestMemfd;
        var retry = (await clients.Memory.CreateGuestMemfdAsync(request, cancellationToken: ct)).GuestMemfd;

        Assert.Equal(("vms/files/guestMemfds/1", first), (retry.Name, retry));
        var changed = request.Clone();
        changed.Size *= 2;
        await RpcAssert.FailsAsync(() => clients.Memory.CreateGuestMemfdAsync(changed, cancellationToken: ct).ResponseAsync, Grpc.Core.StatusCode.InvalidArgument, "REQUEST_ID_REUSED", "request_id");
        // The same request_id on another RPC is another key: CreateVm does not see this one.
        var vm = (await clients.Vms.CreateVmAsync(new CreateVmRequest { VmId = "other", VcpuCount = 1, RequestId = request.RequestId }, cancellationToken: ct)).Vm;
        Assert.Equal("vms/other", vm.Name);
        var files = await clients.Memory.ListGuestMemfdsAsync(new ListGuestMemfdsRequest { Parent = "vms/files" }, cancellationToken: ct);
        Assert.Equal(["vms/files/guestMemfds/1"], files.GuestMemfds.Select(g => g.Name));
    }

    [Fact]
    public async Task ListVms_pages_through_every_VM_once_in_id_order()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var server = await RunningServer.StartAsync();
        var clients = new Clients(server.LoopbackChannel());
        foreach (var id in new[] { "e", "b", "d", "a", "c" })
        {
            await clients.Vms.CreateVmAsync(new CreateVmRequest { VmId = id, VcpuCount = 1 }, cancellationToken: ct);
        }

        var pages = new List<List<string>>();
        var token = "";
        do
        {
            var page = await clients.Vms.ListVmsAsync(new ListVmsRequest { PageSize = 2, PageToken = token }, cancellationToken: ct);
            pages.Add([.. page.Vms.Select(v => v.Name)]);
            token = page.NextPageToken;
        }
        while (token.Length > 0);

        Assert.Equal([["vms/a", "vms/b"], ["vms/c", "vms/d"], ["vms/e"]], pages);
    }

    [Fact]
    public async Task A_bad_name_is_echoed_with_its_control_characters_escaped()
    {
        await using var server = await RunningServer.StartAsync();
        var clients = new Clients(server.LoopbackChannel());

        var error = await RpcAssert.FailsAsync(
            () => clients.Vms.GetVmAsync(new GetVmRequest { Name = "vms/fz\n\u001b[2J" }, cancellationToken: TestContext.Current.CancellationToken).ResponseAsync,
            Grpc.Core.StatusCode.InvalidArgument,
            "INVALID_NAME",
            "name");

        Assert.Equal("name 'vms/fz\\u000a\\u001b[2J' is not a name of the form vms/{vm}", error.Message);
    }
}
