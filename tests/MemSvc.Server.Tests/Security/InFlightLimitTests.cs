using Grpc.Core;
using Grpc.Health.V1;
using Grpc.Net.Client;
using MemSvc.Contracts.V1;
using MemSvc.Server.Identity;
using MemSvc.Server.Security;
using MemSvc.Server.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using static MemSvc.Server.Tests.Security.CallGate;

namespace MemSvc.Server.Tests.Security;

/// <summary>
/// MemSvc:Quotas:MaxInFlightRequestsPerOwner on the real server: calls held at <see cref="CallGate"/> fill an owner's
/// slots exactly, so every refusal and every recovery here is a state the test set up, never a race.
/// </summary>
public sealed class InFlightLimitTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task The_call_past_an_owners_limit_is_refused_QUOTA_EXCEEDED_while_other_owners_ResolveFault_watches_and_health_go_on()
    {
        await using var server = await StartAsync(2, ("MemSvc:Security:Owners:team-a:0", "cert:alice"), ("MemSvc:Security:Owners:team-a:1", "cert:alice-ci"));
        var gate = server.Services.GetRequiredService<CallGate>();
        var alice = ClientsOf(server, "cert:alice");
        var aliceCi = ClientsOf(server, "cert:alice-ci");
        var bob = ClientsOf(server, "cert:bob");
        var watched = await Scenario.VmWithMemoryAsync(alice, "a-vm");
        await alice.Vcpus.LoadGuestProgramAsync(new() { Name = watched.Name + "/vcpus/0", Program = Steps.Program(Steps.Halt()) }, cancellationToken: Ct);

        // Two principals of one owner: the limit counts the owner's calls, not each principal's.
        using var first = alice.Host.GetHostInfoAsync(new(), Hold("first"), cancellationToken: Ct);
        using var second = aliceCi.Host.GetHostInfoAsync(new(), Hold("second"), cancellationToken: Ct);
        await EnteredAsync(gate["first"], gate["second"]);

        var refused = await RpcAssert.FailsAsync(
            () => alice.Vms.CreateVmAsync(new() { VmId = "a-vm-2", VcpuCount = 1, Backend = Backend.Simulated }, cancellationToken: Ct).ResponseAsync,
            StatusCode.ResourceExhausted,
            "QUOTA_EXCEEDED");
        var bobsVm = await bob.Vms.CreateVmAsync(new() { VmId = "b-vm", VcpuCount = 1, Backend = Backend.Simulated }, cancellationToken: Ct);
        var resolve = await RpcAssert.FailsAsync(
            () => alice.Events.ResolveFaultAsync(new() { Vm = "vms/none", FaultId = 1, Action = FaultAction.Convert }, cancellationToken: Ct).ResponseAsync);
        await using var watch = Watcher.Start(alice, watched.Name);
        var watchedEvent = await watch.NextAsync();
        var health = await new Health.HealthClient(alice.Channel).CheckAsync(new HealthCheckRequest(), cancellationToken: Ct);

        Assert.Equal(
            new Dictionary<string, string> { ["quota"] = "max_in_flight_requests_per_owner", ["limit"] = "2", ["requested"] = "3" },
            refused.Info.Metadata);
        Assert.Equal("cert:bob", bobsVm.Vm.Owner);
        Assert.Equal((StatusCode.NotFound, "VM_NOT_FOUND"), (resolve.Code, resolve.Info.Reason));
        Assert.Equal(watched.Name, watchedEvent.Vm);
        Assert.Equal(HealthCheckResponse.Types.ServingStatus.Serving, health.Status);

        // Recovery: one call ends, and the owner's next call gets its slot; the refused CreateVm had created nothing.
        gate["first"].Release(Ending.Proceed);
        await FinishedAsync(gate["first"]);
        var created = await alice.Vms.CreateVmAsync(new() { VmId = "a-vm-2", VcpuCount = 1, Backend = Backend.Simulated }, cancellationToken: Ct);
        gate["second"].Release(Ending.Proceed);
        await FinishedAsync(gate["second"]);

        Assert.Equal("vms/a-vm-2", created.Vm.Name);
        Assert.Equal((Backend.Simulated, Backend.Simulated), ((await first).DefaultBackend, (await second).DefaultBackend));
        Assert.Equal(0, server.Services.GetRequiredService<InFlightCounter>().OwnersInFlight);
    }

    public static TheoryData<string> Endings => ["completes", "fails", "is cancelled by its client", "passes its deadline"];

    [Theory]
    [MemberData(nameof(Endings))]
    public async Task The_slot_comes_back_when_the_held_call(string ending)
    {
        await using var server = await StartAsync(1);
        var gate = server.Services.GetRequiredService<CallGate>();
        var alice = ClientsOf(server, "cert:alice");
        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(Ct);

        // The deadline is what this case is about, not a bound on speed: the gate holds the call past it whatever
        // the timing, and lets it observe its cancellation only when the test says so.
        DateTime? deadline = ending == "passes its deadline" ? DateTime.UtcNow.AddSeconds(2) : null;
        using var held = alice.Host.GetHostInfoAsync(new(), Hold("held"), deadline, cancel.Token);
        await EnteredAsync(gate["held"]);
        var refused = await RpcAssert.FailsAsync(
            () => alice.Host.GetHostInfoAsync(new(), cancellationToken: Ct).ResponseAsync, StatusCode.ResourceExhausted, "QUOTA_EXCEEDED");

        StatusCode expected;
        switch (ending)
        {
            case "completes":
                gate["held"].Release(Ending.Proceed);
                expected = StatusCode.OK;
                break;
            case "fails":
                gate["held"].Release(Ending.Fail);
                expected = StatusCode.FailedPrecondition;
                break;
            case "is cancelled by its client":
                await cancel.CancelAsync();
                gate["held"].Release(Ending.ObserveCancellation);
                expected = StatusCode.Cancelled;
                break;
            default:
                gate["held"].Release(Ending.ObserveCancellation);
                expected = StatusCode.DeadlineExceeded;
                break;
        }

        var outcome = await OutcomeAsync(held);
        await FinishedAsync(gate["held"]);
        var after = await alice.Host.GetHostInfoAsync(new(), cancellationToken: Ct);

        Assert.Equal("1", refused.Info.Metadata["limit"]);
        Assert.Equal(expected, outcome);
        Assert.Equal(Backend.Simulated, after.DefaultBackend);
        Assert.Equal(0, server.Services.GetRequiredService<InFlightCounter>().CountOf("cert:alice"));
    }

    [Fact]
    public async Task An_admin_is_held_to_the_limit_under_its_own_owner()
    {
        await using var server = await StartAsync(1, ("MemSvc:Security:Admins:0", "cert:root"));
        var gate = server.Services.GetRequiredService<CallGate>();
        var root = ClientsOf(server, "cert:root");
        var alice = ClientsOf(server, "cert:alice");

        using var held = root.Host.GetHostInfoAsync(new(), Hold("root"), cancellationToken: Ct);
        await EnteredAsync(gate["root"]);
        var refused = await RpcAssert.FailsAsync(
            () => root.Vms.ListVmsAsync(new(), cancellationToken: Ct).ResponseAsync, StatusCode.ResourceExhausted, "QUOTA_EXCEEDED");
        var alicesList = await alice.Vms.ListVmsAsync(new(), cancellationToken: Ct);
        gate["root"].Release(Ending.Proceed);
        await held;

        Assert.Equal("max_in_flight_requests_per_owner", refused.Info.Metadata["quota"]);
        Assert.Empty(alicesList.Vms);
    }

    [Fact]
    public async Task A_state_changing_call_refused_for_its_in_flight_limit_spends_none_of_the_owners_rate_tokens()
    {
        // One token, never refilled during the test: the CreateVm after the refusal gets it only if the refused one
        // did not take it first.
        await using var server = await StartAsync(1, ("MemSvc:RateLimit:MutationsPerMinute", "1"), ("MemSvc:RateLimit:MutationBurst", "1"));
        var gate = server.Services.GetRequiredService<CallGate>();
        var alice = ClientsOf(server, "cert:alice");

        using var held = alice.Host.GetHostInfoAsync(new(), Hold("read"), cancellationToken: Ct);
        await EnteredAsync(gate["read"]);
        await RpcAssert.FailsAsync(
            () => alice.Vms.CreateVmAsync(new() { VmId = "a-vm", VcpuCount = 1, Backend = Backend.Simulated }, cancellationToken: Ct).ResponseAsync,
            StatusCode.ResourceExhausted,
            "QUOTA_EXCEEDED");
        gate["read"].Release(Ending.Proceed);
        await FinishedAsync(gate["read"]);
        var created = await alice.Vms.CreateVmAsync(new() { VmId = "a-vm", VcpuCount = 1, Backend = Backend.Simulated }, cancellationToken: Ct);

        Assert.Equal("vms/a-vm", created.Vm.Name);
    }

    [Fact]
    public async Task A_limit_below_1_fails_start_up()
    {
        var error = await Assert.ThrowsAsync<Microsoft.Extensions.Options.OptionsValidationException>(
            () => RunningServer.StartAsync(("MemSvc:Quotas:MaxInFlightRequestsPerOwner", "0")));

        Assert.Equal(["MemSvc:Quotas:* must each be at least 1."], error.Failures);
    }

    private static Task<RunningServer> StartAsync(int limit, params (string Key, string Value)[] settings) =>
        RunningServer.StartAsync(
            builder =>
            {
                builder.Services.AddSingleton<ICallerResolver, PrincipalHeaderResolver>();
                Install(builder);
            },
            [("MemSvc:Quotas:MaxInFlightRequestsPerOwner", limit.ToString(System.Globalization.CultureInfo.InvariantCulture)), .. settings]);

    private static Clients ClientsOf(RunningServer server, string principal) =>
        new(GrpcChannel.ForAddress(server.Loopback, new GrpcChannelOptions { HttpHandler = new PrincipalHandler(principal), DisposeHttpClient = true }));

    private static Task EnteredAsync(params HeldCall[] calls) =>
        Task.WhenAll(calls.Select(c => c.Entered)).WaitAsync(Watcher.Patience, Ct);

    private static Task FinishedAsync(HeldCall call) => call.Finished.WaitAsync(Watcher.Patience, Ct);

    private static async Task<StatusCode> OutcomeAsync(AsyncUnaryCall<GetHostInfoResponse> call)
    {
        try
        {
            await call.ResponseAsync.WaitAsync(Watcher.Patience, Ct);
            return StatusCode.OK;
        }
        catch (RpcException e)
        {
            return e.StatusCode;
        }
    }
}
