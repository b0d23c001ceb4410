using Grpc.Core;
using Grpc.Net.Client;
using MemSvc.Contracts.V1;
using MemSvc.Core.Options;
using MemSvc.Server.Hosting;
using MemSvc.Server.Identity;
using MemSvc.Server.Security;
using MemSvc.Server.Services;
using MemSvc.Server.Tests.Infrastructure;
using MemSvc.Server.Tests.Security;
using Microsoft.Extensions.DependencyInjection;
using static MemSvc.Server.Tests.Infrastructure.Steps;

namespace MemSvc.Server.Tests.HostileLoad;

/// <summary>
/// D2: one owner's burst of slow calls, within its in-flight limit, held thread-pool threads (synchronous handlers
/// blocked on the VM's lock), so that Kestrel stopped reading, reset the burst's streams (UNAVAILABLE for calls that
/// had been applied) and other owners waited up to 26 s. Here the slow calls are held at a gate inside the backend,
/// so "all of them are still running" is a state the test sets up, not a race it hopes to win.
/// </summary>
[Collection(nameof(HostileLoadCollection))]
public sealed class StarvationTests
{
    private static readonly int Limit = new QuotaOptions().MaxInFlightRequestsPerOwner;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task One_owners_slow_calls_at_its_in_flight_limit_stall_no_other_owner_and_each_applied_call_is_answered_OK()
    {
        var gate = new GatedBackend();
        await using var server = await RunningServer.StartAsync(builder =>
        {
            builder.Services.AddSingleton<ICallerResolver, PrincipalHeaderResolver>();
            builder.Services.AddSingleton<IBackendDecorator>(gate);
        });
        var alice = ClientsOf(server, "cert:alice");
        var bob = ClientsOf(server, "cert:bob");
        var aliceVm = await Scenario.VmWithMemoryAsync(alice, "a-vm");
        var bobVm = await Scenario.VmWithMemoryAsync(bob, "b-vm");
        gate.Close(0);

        // Alice fills her limit with conversions of her VM; the first blocks in the backend, holding the VM.
        var conversions = Enumerable.Range(0, Limit)
            .Select(i => alice.Memory.ConvertMemoryAsync(
                new() { Vm = aliceVm.Name, Gpa = 0, Size = 64 * MiB, Target = i % 2 == 0 ? MemoryVisibility.Private : MemoryVisibility.Shared },
                cancellationToken: Ct).ResponseAsync)
            .ToList();
        try
        {
            var onThreadPool = await gate.Entered.WaitAsync(Watcher.Patience, Ct);
            Assert.False(onThreadPool, "the conversion blocked a thread-pool thread");
            await AllAdmittedAsync(server, "cert:alice");

            // Bob, while every one of Alice's calls is held: reads, and a slow call of his own on his own VM.
            var bobsVm = await bob.Vms.GetVmAsync(new() { Name = bobVm.Name }, deadline: Deadline(), cancellationToken: Ct);
            var bobsList = await bob.Vms.ListVmsAsync(new(), deadline: Deadline(), cancellationToken: Ct);
            var bobsConversion = await bob.Memory.ConvertMemoryAsync(
                new() { Vm = bobVm.Name, Gpa = 0, Size = 64 * MiB, Target = MemoryVisibility.Private }, deadline: Deadline(), cancellationToken: Ct);
            var aliceRefused = await RpcAssert.FailsAsync(
                () => alice.Vms.GetVmAsync(new() { Name = aliceVm.Name }, cancellationToken: Ct).ResponseAsync, StatusCode.ResourceExhausted, "QUOTA_EXCEEDED");

            Assert.All(conversions, c => Assert.False(c.IsCompleted));
            Assert.Equal((bobVm.Name, 1), (bobsVm.Vm.Name, bobsList.Vms.Count));
            Assert.True(bobsConversion.EventSequence > 0);
            Assert.Equal("max_in_flight_requests_per_owner", aliceRefused.Info.Metadata["quota"]);
        }
        finally
        {
            gate.Open();
        }

        // Every call Alice was told OK was applied once, and every applied one was told OK.
        var answers = await Task.WhenAll(conversions).WaitAsync(Watcher.Patience, Ct);
        var last = (await alice.Vms.GetVmAsync(new() { Name = aliceVm.Name }, cancellationToken: Ct)).Vm.LastEventSequence;
        await using var watch = Watcher.Start(alice, aliceVm.Name);
        var applied = (await watch.TakeUntilAsync(e => e.Sequence == last)).Where(e => e.ConversionApplied is not null).Select(e => e.Sequence);

        Assert.Equal(applied.Order(), answers.Select(a => a.EventSequence).Order());
        Assert.Equal(Limit, answers.Length);
    }

    [Fact]
    public async Task One_owners_creation_held_in_the_backend_does_not_hold_up_another_owners_creation()
    {
        var gate = new GatedBackend();
        await using var server = await RunningServer.StartAsync(builder =>
        {
            builder.Services.AddSingleton<ICallerResolver, PrincipalHeaderResolver>();
            builder.Services.AddSingleton<IBackendDecorator>(gate);
        });
        var alice = ClientsOf(server, "cert:alice");
        var bob = ClientsOf(server, "cert:bob");
        var aliceVm = (await alice.Vms.CreateVmAsync(new() { VmId = "a-vm", VcpuCount = 1, Backend = Backend.Simulated }, cancellationToken: Ct)).Vm;
        gate.Close(0);

        // Both carry a request_id, so both go through the request_id ledger; Bob's on another of its lock stripes.
        var aliceKey = ("cert:alice", CreateGuestMemfdRequest.Descriptor.FullName, "alice-1");
        var bobsId = Enumerable.Range(0, 100).Select(i => $"bob-{i}")
            .First(id => RequestIds.StripeOf(("cert:bob", CreateVmRequest.Descriptor.FullName, id)) != RequestIds.StripeOf(aliceKey));
        var held = alice.Memory.CreateGuestMemfdAsync(new() { Parent = aliceVm.Name, Size = MiB, RequestId = "alice-1" }, cancellationToken: Ct).ResponseAsync;
        try
        {
            await gate.Entered.WaitAsync(Watcher.Patience, Ct);
            var bobs = await bob.Vms.CreateVmAsync(
                new() { VmId = "b-vm", VcpuCount = 1, Backend = Backend.Simulated, RequestId = bobsId }, deadline: Deadline(), cancellationToken: Ct);

            Assert.False(held.IsCompleted);
            Assert.Equal("cert:bob", bobs.Vm.Owner);
        }
        finally
        {
            gate.Open();
        }

        Assert.Equal(MiB, (await held.WaitAsync(Watcher.Patience, Ct)).GuestMemfd.Size);
    }

    [Fact]
    public async Task Resolving_a_large_conversion_request_converts_on_a_worker_not_a_thread_pool_thread()
    {
        var gate = new GatedBackend();
        await using var server = await RunningServer.StartAsync(builder => builder.Services.AddSingleton<IBackendDecorator>(gate));
        var clients = new Clients(server.LoopbackChannel());
        var vm = await Scenario.VmWithMemoryAsync(clients, "asks", FaultPolicy.Orchestrator, resolutionTimeout: new() { Seconds = 3600 });
        await clients.Vcpus.LoadGuestProgramAsync(new() { Name = vm.Name + "/vcpus/0", Program = Program(Map(0, 1024, toPrivate: true), Halt()) }, cancellationToken: Ct);
        await using var watch = Watcher.Start(clients, vm.Name);
        await clients.Vcpus.StartVcpuAsync(new() { Name = vm.Name + "/vcpus/0" }, cancellationToken: Ct);
        var request = (await watch.TakeUntilAsync(e => e.ConversionRequested is not null))[^1].ConversionRequested;
        gate.Close(0);

        // 4 MiB: past what ResolveFault converts on the calling thread.
        var resolving = clients.Events.ResolveFaultAsync(new() { Vm = vm.Name, FaultId = request.FaultId, Action = FaultAction.Convert }, cancellationToken: Ct).ResponseAsync;
        bool onThreadPool;
        try
        {
            onThreadPool = await gate.Entered.WaitAsync(Watcher.Patience, Ct);
        }
        finally
        {
            gate.Open();
        }

        Assert.False(onThreadPool, "the conversion blocked a thread-pool thread");
        Assert.Equal(FaultAction.Convert, (await resolving).Action);
        await watch.TakeUntilAsync(e => e.VcpuStateChanged?.State == VcpuState.Halted);
    }

    /// <summary>Waits until the owner holds all its in-flight slots: every call has been admitted and is held.</summary>
    private static async Task AllAdmittedAsync(RunningServer server, string owner)
    {
        var counter = server.Services.GetRequiredService<InFlightCounter>();
        using var patience = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        patience.CancelAfter(Watcher.Patience);
        while (counter.CountOf(owner) < Limit)
        {
            await Task.Delay(10, patience.Token);
        }
    }

    // A safety net that makes a stall fail the test instead of hanging it, never a bound on speed.
    private static DateTime Deadline() => DateTime.UtcNow + Watcher.Patience;

    private static Clients ClientsOf(RunningServer server, string principal) =>
        new(GrpcChannel.ForAddress(server.Loopback, new GrpcChannelOptions { HttpHandler = new PrincipalHandler(principal), DisposeHttpClient = true }));
}
