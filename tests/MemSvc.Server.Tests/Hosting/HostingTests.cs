using Grpc.Core;
using Grpc.Health.V1;
using Grpc.Reflection.V1Alpha;
using MemSvc.Contracts.V1;
using MemSvc.Server.Hosting;
using MemSvc.Server.Tests.Infrastructure;
using Microsoft.Extensions.Options;
using static MemSvc.Server.Tests.Infrastructure.Steps;

namespace MemSvc.Server.Tests.Hosting;

/// <summary>The host itself: health, reflection, the Unix socket and its caller identity, options, shutdown.</summary>
public sealed class HostingTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Health_reports_SERVING_and_reflection_lists_every_service()
    {
        await using var server = await RunningServer.StartAsync();
        var channel = server.LoopbackChannel();

        var health = await new Health.HealthClient(channel).CheckAsync(new HealthCheckRequest(), cancellationToken: Ct);
        using var reflection = new ServerReflection.ServerReflectionClient(channel).ServerReflectionInfo(cancellationToken: Ct);
        await reflection.RequestStream.WriteAsync(new ServerReflectionRequest { ListServices = "" }, Ct);
        await reflection.RequestStream.CompleteAsync();
        Assert.True(await reflection.ResponseStream.MoveNext(Ct));

        Assert.Equal(HealthCheckResponse.Types.ServingStatus.Serving, health.Status);
        Assert.Equal(
            ["grpc.health.v1.Health", "grpc.reflection.v1.ServerReflection", "grpc.reflection.v1alpha.ServerReflection", "memsvc.v1.EventService", "memsvc.v1.GuestMemoryService", "memsvc.v1.HostService", "memsvc.v1.VcpuService", "memsvc.v1.VmService"],
            reflection.ResponseStream.Current.ListServicesResponse.Service.Select(s => s.Name).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task Health_answers_for_each_MemSvc_service_by_name_and_NOT_FOUND_UNKNOWN_SERVICE_for_another()
    {
        await using var server = await RunningServer.StartAsync();
        var health = new Health.HealthClient(server.LoopbackChannel());
        var statuses = new List<HealthCheckResponse.Types.ServingStatus>();
        foreach (var service in new[] { "memsvc.v1.VmService", "memsvc.v1.GuestMemoryService", "memsvc.v1.VcpuService", "memsvc.v1.EventService", "memsvc.v1.HostService" })
        {
            statuses.Add((await health.CheckAsync(new HealthCheckRequest { Service = service }, cancellationToken: Ct)).Status);
        }

        var unknown = await RpcAssert.FailsAsync(() => health.CheckAsync(new HealthCheckRequest { Service = "memsvc.v1.NoSuchService" }, cancellationToken: Ct).ResponseAsync, StatusCode.NotFound, "UNKNOWN_SERVICE");

        Assert.All(statuses, status => Assert.Equal(HealthCheckResponse.Types.ServingStatus.Serving, status));
        Assert.Equal(5, statuses.Count);
        Assert.Equal("memsvc.v1.NoSuchService", unknown.Info.Metadata["service"]);
    }

    [Fact]
    public async Task The_health_port_answers_health_checks_and_refuses_every_other_RPC()
    {
        var port = FreePorts.Next();

        await using var server = await RunningServer.StartAsync(("MemSvc:HealthPort", port.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        using var channel = Grpc.Net.Client.GrpcChannel.ForAddress($"http://127.0.0.1:{port}");

        var health = await new Health.HealthClient(channel).CheckAsync(new HealthCheckRequest(), cancellationToken: Ct);
        var refused = await Assert.ThrowsAsync<RpcException>(
            async () => await new HostService.HostServiceClient(channel).GetHostInfoAsync(new GetHostInfoRequest(), cancellationToken: Ct));
        var createRefused = await Assert.ThrowsAsync<RpcException>(
            async () => await new VmService.VmServiceClient(channel).CreateVmAsync(new CreateVmRequest { VmId = "via-health" }, cancellationToken: Ct));
        var vms = await new VmService.VmServiceClient(server.LoopbackChannel()).ListVmsAsync(new ListVmsRequest(), cancellationToken: Ct);

        Assert.Equal(HealthCheckResponse.Types.ServingStatus.Serving, health.Status);
        Assert.Equal(StatusCode.Unimplemented, refused.StatusCode);
        Assert.Equal(StatusCode.Unimplemented, createRefused.StatusCode);
        Assert.Empty(vms.Vms);
    }

    [Fact]
    public async Task Over_the_Unix_socket_a_guest_runs_and_the_VM_belongs_to_the_peer_uid()
    {
        await using var server = await RunningServer.StartAsync();
        var clients = new Clients(server.SocketChannel());

        var vm = await Scenario.VmWithMemoryAsync(clients, "sock");
        await Waits.RunToHaltAsync(clients, vm.Name, Program(Write(0, 1, AccessIntent.Private), Check(0, 1, AccessIntent.Private), Halt()));

        Assert.Equal("uid:" + CurrentUid(), vm.Owner);
        Assert.Equal(
            UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.GroupWrite,
            File.GetUnixFileMode(server.SocketPath));
        var loopback = new Clients(server.LoopbackChannel());
        Assert.Empty((await loopback.Vms.ListVmsAsync(new ListVmsRequest(), cancellationToken: Ct)).Vms);
    }

    [Fact]
    public async Task Stopping_the_server_ends_an_open_watch_stream_cleanly_and_stops_a_waiting_vCPU()
    {
        var server = await RunningServer.StartAsync();
        await using (server)
        {
            var clients = new Clients(server.LoopbackChannel());
            var vm = await Scenario.VmWithMemoryAsync(clients, "stop", FaultPolicy.Orchestrator, resolutionTimeout: new() { Seconds = 3600 });
            await clients.Vcpus.LoadGuestProgramAsync(new LoadGuestProgramRequest { Name = "vms/stop/vcpus/0", Program = Program(Write(0, 1, AccessIntent.Private), Halt()) }, cancellationToken: Ct);
            var watcher = Watcher.Start(clients, vm.Name);
            await clients.Vcpus.StartVcpuAsync(new StartVcpuRequest { Name = "vms/stop/vcpus/0" }, cancellationToken: Ct);
            await watcher.TakeUntilAsync(e => e.MemoryFault is not null);

            await server.StopAsync();

            await watcher.Completion;
            await watcher.DisposeAsync();
        }
    }

    [Fact]
    public async Task A_configuration_that_cannot_work_fails_start_up()
    {
        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => RunningServer.StartAsync(("MemSvc:JournalRetention", "1"), ("MemSvc:DefaultBackend", "qemu")));

        Assert.Equal(2, error.Failures.Count());
    }

    [Fact]
    public async Task A_socket_a_live_server_listens_on_is_not_taken_over()
    {
        await using var server = await RunningServer.StartAsync();

        var error = Assert.Throws<StartupRefusedException>(() => SocketLocation.TryPrepare(server.SocketPath));

        Assert.Contains(server.SocketPath, error.Message, StringComparison.Ordinal);
        Assert.Equal(StartupExit.ListenerUnavailable, error.ExitCode);
        Assert.True(SocketLocation.TryPrepare(Path.Combine(Path.GetDirectoryName(server.SocketPath)!, "other.sock")));
    }

    private static string CurrentUid() =>
        File.ReadLines("/proc/self/status").First(l => l.StartsWith("Uid:", StringComparison.Ordinal)).Split('\t', StringSplitOptions.RemoveEmptyEntries)[1];
}
