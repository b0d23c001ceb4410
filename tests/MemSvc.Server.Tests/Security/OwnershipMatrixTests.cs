using Grpc.Core;
using Grpc.Net.Client;
using MemSvc.Contracts.V1;
using MemSvc.Server.Identity;
using MemSvc.Server.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace MemSvc.Server.Tests.Security;

/// <summary>
/// Two owners and an admin over every RPC: owner B cannot tell owner A's VM exists (NOT_FOUND VM_NOT_FOUND for
/// each call, nothing changed, absent from its lists and watches); the admin sees and acts on it.
/// </summary>
public sealed class OwnershipMatrixTests
{
    private static readonly (string Key, string Value)[] Settings =
    [
        ("MemSvc:Security:Owners:team-a:0", "cert:alice"),
        ("MemSvc:Security:Owners:team-a:1", "cert:alice-ci"),
        ("MemSvc:Security:Owners:team-b:0", "cert:bob"),
        ("MemSvc:Security:Admins:0", "cert:root"),
    ];

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public static TheoryData<string> Rpcs => [.. VmScopedCalls.All.Select(c => c.Rpc)];

    [Theory]
    [MemberData(nameof(Rpcs))]
    public async Task Owner_B_gets_VM_NOT_FOUND_for_owner_As_VM_and_changes_nothing(string rpc)
    {
        await using var server = await StartAsync();
        var alice = ClientsOf(server, "cert:alice");
        var bob = ClientsOf(server, "cert:bob");
        var vm = await OwnedVmAsync(alice);
        var before = await StateSnapshot.TakeAsync(alice);

        var call = VmScopedCalls.All.Single(c => c.Rpc == rpc).Call;
        var error = await RpcAssert.FailsAsync(() => call(bob, vm.Name, Ct));

        Assert.Equal((StatusCode.NotFound, "VM_NOT_FOUND"), (error.Code, error.Info.Reason));
        Assert.DoesNotContain("team-a", error.Message, StringComparison.Ordinal);
        Assert.Equal(before, await StateSnapshot.TakeAsync(alice));
    }

    [Theory]
    [MemberData(nameof(Rpcs))]
    public async Task The_admin_reaches_owner_As_VM_through_every_RPC(string rpc)
    {
        await using var server = await StartAsync();
        var alice = ClientsOf(server, "cert:alice");
        var root = ClientsOf(server, "cert:root");
        var vm = await OwnedVmAsync(alice);

        var call = VmScopedCalls.All.Single(c => c.Rpc == rpc).Call;
        try
        {
            await call(root, vm.Name, Ct);
        }
        catch (RpcException e)
        {
            // Some calls fail on the VM's state (no fault 1 to resolve): that is the VM answering, not hiding.
            Assert.NotEqual("VM_NOT_FOUND", RpcError.From(e).Info.Reason);
        }
    }

    [Fact]
    public async Task Lists_and_all_VM_watches_show_only_the_callers_VMs_and_the_admin_sees_every_VM()
    {
        await using var server = await StartAsync();
        var alice = ClientsOf(server, "cert:alice");
        var aliceCi = ClientsOf(server, "cert:alice-ci");
        var bob = ClientsOf(server, "cert:bob");
        var root = ClientsOf(server, "cert:root");
        await using var bobWatch = Watcher.Start(bob, "", startSequence: 1);
        await using var rootWatch = Watcher.Start(root, "", startSequence: 1);

        var a = await alice.Vms.CreateVmAsync(new() { VmId = "a-vm", VcpuCount = 1, Backend = Backend.Simulated }, cancellationToken: Ct);
        await alice.Vcpus.LoadGuestProgramAsync(new() { Name = "vms/a-vm/vcpus/0", Program = Steps.Program(Steps.Halt()) }, cancellationToken: Ct);
        var b = await bob.Vms.CreateVmAsync(new() { VmId = "b-vm", VcpuCount = 1, Backend = Backend.Simulated }, cancellationToken: Ct);
        await bob.Vcpus.LoadGuestProgramAsync(new() { Name = "vms/b-vm/vcpus/0", Program = Steps.Program(Steps.Halt()) }, cancellationToken: Ct);

        Assert.Equal(("team-a", "team-b"), (a.Vm.Owner, b.Vm.Owner));
        Assert.Equal(["vms/a-vm"], await NamesAsync(alice));
        Assert.Equal(["vms/a-vm"], await NamesAsync(aliceCi));
        Assert.Equal(["vms/b-vm"], await NamesAsync(bob));
        Assert.Equal(["vms/a-vm", "vms/b-vm"], await NamesAsync(root));
        Assert.Equal("vms/b-vm", (await bobWatch.NextAsync()).Vm);
        Assert.Equal(["vms/a-vm", "vms/b-vm"], new[] { (await rootWatch.NextAsync()).Vm, (await rootWatch.NextAsync()).Vm }.Order(StringComparer.Ordinal));
        await aliceCi.Vms.DeleteVmAsync(new() { Name = "vms/a-vm" }, cancellationToken: Ct);
        await root.Vms.DeleteVmAsync(new() { Name = "vms/b-vm" }, cancellationToken: Ct);
        Assert.Empty(await NamesAsync(root));
    }

    [Fact]
    public async Task CreateVm_of_a_name_another_owner_holds_succeeds_as_for_an_absent_name_and_each_owner_keeps_its_own_VM()
    {
        await using var server = await StartAsync();
        var alice = ClientsOf(server, "cert:alice");
        var bob = ClientsOf(server, "cert:bob");
        var squatted = await bob.Vms.CreateVmAsync(new() { VmId = "prod-db-02", VcpuCount = 2, Backend = Backend.Simulated }, cancellationToken: Ct);

        var mine = await alice.Vms.CreateVmAsync(new() { VmId = "prod-db-02", VcpuCount = 1, Backend = Backend.Simulated }, cancellationToken: Ct);
        await alice.Vcpus.LoadGuestProgramAsync(new() { Name = "vms/prod-db-02/vcpus/0", Program = Steps.Program(Steps.Halt()) }, cancellationToken: Ct);
        var aliceGet = (await alice.Vms.GetVmAsync(new() { Name = "vms/prod-db-02" }, cancellationToken: Ct)).Vm;
        var bobGet = (await bob.Vms.GetVmAsync(new() { Name = "vms/prod-db-02" }, cancellationToken: Ct)).Vm;
        var bobsVcpu = await bob.Vcpus.GetVcpuAsync(new() { Name = "vms/prod-db-02/vcpus/0" }, cancellationToken: Ct);
        await alice.Vms.DeleteVmAsync(new() { Name = "vms/prod-db-02" }, cancellationToken: Ct);
        var bobAfter = (await bob.Vms.GetVmAsync(new() { Name = "vms/prod-db-02" }, cancellationToken: Ct)).Vm;

        Assert.Equal(("vms/prod-db-02", "team-a", 1), (mine.Vm.Name, mine.Vm.Owner, (int)mine.Vm.VcpuCount));
        Assert.NotEqual(squatted.Vm.Uid, mine.Vm.Uid);
        Assert.Equal((mine.Vm.Uid, "team-a", 1), (aliceGet.Uid, aliceGet.Owner, (int)aliceGet.VcpuCount));
        Assert.Equal((squatted.Vm.Uid, "team-b", 2, 0UL), (bobGet.Uid, bobGet.Owner, (int)bobGet.VcpuCount, bobGet.LastEventSequence));
        Assert.Equal(VcpuState.Idle, bobsVcpu.Vcpu.State);
        Assert.Equal(squatted.Vm.Uid, bobAfter.Uid);
        Assert.Equal(["vms/prod-db-02"], await NamesAsync(bob));
        Assert.Empty(await NamesAsync(alice));
    }

    [Fact]
    public async Task On_the_Unix_socket_the_peers_uid_is_the_principal_and_maps_to_its_configured_owner()
    {
        var uid = UidPrincipal();
        await using var server = await RunningServer.StartAsync(("MemSvc:Security:Owners:host-team:0", uid));
        var clients = new Clients(server.SocketChannel());

        var vm = await clients.Vms.CreateVmAsync(new() { VmId = "sock-vm", VcpuCount = 1, Backend = Backend.Simulated }, cancellationToken: Ct);

        Assert.Equal("host-team", vm.Vm.Owner);
        var loopback = new Clients(server.LoopbackChannel());
        await RpcAssert.FailsAsync(() => loopback.Vms.GetVmAsync(new() { Name = "vms/sock-vm" }, cancellationToken: Ct).ResponseAsync, StatusCode.NotFound, "VM_NOT_FOUND");
    }

    [Fact]
    public async Task An_admin_principal_on_loopback_sees_VMs_created_over_the_socket()
    {
        await using var server = await RunningServer.StartAsync(("MemSvc:Security:Admins:0", ConnectionCallerResolver.LoopbackIdentity));
        var socket = new Clients(server.SocketChannel());
        await socket.Vms.CreateVmAsync(new() { VmId = "sock-vm", VcpuCount = 1, Backend = Backend.Simulated }, cancellationToken: Ct);
        var loopback = new Clients(server.LoopbackChannel());

        var vm = await loopback.Vms.GetVmAsync(new() { Name = "vms/sock-vm" }, cancellationToken: Ct);

        Assert.Equal(UidPrincipal(), vm.Vm.Owner);
    }

    [Fact]
    public async Task A_principal_listed_under_two_owners_fails_start_up()
    {
        var e = await Assert.ThrowsAnyAsync<Exception>(() => RunningServer.StartAsync(
            ("MemSvc:Security:Owners:x:0", "cert:p"), ("MemSvc:Security:Owners:y:0", "cert:p")));

        Assert.Contains("cert:p", e.Message, StringComparison.Ordinal);
    }

    /// <summary>This process's real uid, as SO_PEERCRED reports it to the server.</summary>
    private static string UidPrincipal() =>
        "uid:" + File.ReadAllLines("/proc/self/status").Single(l => l.StartsWith("Uid:", StringComparison.Ordinal)).Split('\t', StringSplitOptions.RemoveEmptyEntries)[1];

    /// <summary>Owner A's VM with memory and a loaded program, so that its journal holds an event to watch.</summary>
    private static async Task<Vm> OwnedVmAsync(Clients owner)
    {
        var vm = await Scenario.VmWithMemoryAsync(owner, "a-vm");
        await owner.Vcpus.LoadGuestProgramAsync(new() { Name = vm.Name + "/vcpus/0", Program = Steps.Program(Steps.Halt()) }, cancellationToken: Ct);
        return vm;
    }

    private static Task<RunningServer> StartAsync() =>
        RunningServer.StartAsync(builder => builder.Services.AddSingleton<ICallerResolver, PrincipalHeaderResolver>(), Settings);

    private static Clients ClientsOf(RunningServer server, string principal) =>
        new(GrpcChannel.ForAddress(server.Loopback, new GrpcChannelOptions { HttpHandler = new PrincipalHandler(principal), DisposeHttpClient = true }));

    private static async Task<List<string>> NamesAsync(Clients clients) =>
        [.. (await clients.Vms.ListVmsAsync(new() { PageSize = 100 }, cancellationToken: Ct)).Vms.Select(v => v.Name)];
}
