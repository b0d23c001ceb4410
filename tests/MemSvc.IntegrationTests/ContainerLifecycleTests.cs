using System.Net.Sockets;
using System.Text.Json;
using DotNet.Testcontainers.Containers;
using Grpc.Health.V1;
using Grpc.Net.Client;
using MemSvc.Contracts.V1;
using MemSvc.IntegrationTests.Infrastructure;

namespace MemSvc.IntegrationTests;

/// <summary>What the image promises an operator: non-root, labelled, healthy by its own HEALTHCHECK, a socket on
/// a volume that node-local clients can use, and a clean stop.</summary>
[Collection(DockerCollection.Name)]
public sealed class ContainerLifecycleTests(DockerFixture docker)
{
    [Fact(Timeout = 180_000)]
    public async Task Image_runs_as_non_root_and_its_healthcheck_reports_healthy()
    {
        docker.SkipIfUnavailable();
        await using var memsvc = await MemSvcContainer.StartAsync(docker.Image);
        var ct = TestContext.Current.CancellationToken;

        using var engine = DockerEngine.FromEnvironment();
        using (var image = await engine.InspectAsync("images", docker.Image, ct))
        {
            var config = image.RootElement.GetProperty("Config");
            Assert.Equal("10001:10001", config.GetProperty("User").GetString());
            Assert.Equal("MemSvc", config.GetProperty("Labels").GetProperty("org.opencontainers.image.title").GetString());
            Assert.Contains("/app/memsvc-health-probe",
                config.GetProperty("Healthcheck").GetProperty("Test").EnumerateArray().Select(e => e.GetString()));
        }

        var id = await memsvc.Container.ExecAsync(["id", "-u"], ct);
        Assert.Equal("10001", id.Stdout.Trim());

        // Docker runs the image's HEALTHCHECK (the probe over the Unix socket) every 10 s.
        var deadline = DateTime.UtcNow.AddSeconds(60);
        string status;
        do
        {
            await Task.Delay(TimeSpan.FromSeconds(1), ct);
            using var inspect = await engine.InspectAsync("containers", memsvc.Container.Id, ct);
            status = inspect.RootElement.GetProperty("State").GetProperty("Health").GetProperty("Status").GetString() ?? "none";
        }
        while (status != "healthy" && DateTime.UtcNow < deadline);
        Assert.Equal("healthy", status);
        Log.Write($"container {memsvc.Container.Id[..12]} is healthy by its HEALTHCHECK");

        var probe = await memsvc.Container.ExecAsync(["/app/memsvc-health-probe"], ct);
        Assert.Equal(0, probe.ExitCode);
        Assert.Contains("SERVING", probe.Stdout, StringComparison.Ordinal);
    }

    [Fact(Timeout = 180_000)]
    public async Task Socket_on_a_host_folder_serves_node_local_clients()
    {
        docker.SkipIfUnavailable();
        await using var memsvc = await MemSvcContainer.StartAsync(docker.Image, socketOnHost: true);
        var ct = TestContext.Current.CancellationToken;

        var socketPath = Path.Combine(memsvc.SocketDirectory!, "memsvc.sock");
        Assert.True(File.Exists(socketPath), $"no socket at {socketPath}");
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.GroupWrite,
            File.GetUnixFileMode(socketPath));

        using var channel = GrpcChannel.ForAddress("http://localhost", new GrpcChannelOptions
        {
            HttpHandler = new SocketsHttpHandler
            {
                ConnectCallback = async (_, token) =>
                {
                    var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
                    await socket.ConnectAsync(new UnixDomainSocketEndPoint(socketPath), token);
                    return new NetworkStream(socket, ownsSocket: true);
                },
            },
        });
        var health = await new Health.HealthClient(channel).CheckAsync(new HealthCheckRequest(), cancellationToken: ct);
        Assert.Equal(HealthCheckResponse.Types.ServingStatus.Serving, health.Status);
        var host = await new HostService.HostServiceClient(channel).GetHostInfoAsync(new GetHostInfoRequest(), cancellationToken: ct);
        Assert.Contains(host.Backends, b => b.Backend == Backend.Simulated);
    }

    [Fact(Timeout = 180_000)]
    public async Task Stop_is_graceful_and_exits_0()
    {
        docker.SkipIfUnavailable();
        await using var memsvc = await MemSvcContainer.StartAsync(docker.Image);
        var ct = TestContext.Current.CancellationToken;

        // Something to shut down: a VM with a watcher streaming from it.
        var api = new MemSvcClients(memsvc.Channel);
        await api.Vms.CreateVmAsync(new CreateVmRequest { VmId = "stopping", Backend = Backend.Simulated, VmType = VmType.SwProtected, VcpuCount = 1, FaultPolicy = FaultPolicy.Auto }, cancellationToken: ct);
        await using var watcher = new EventStream(api.Events, "vms/stopping", startSequence: 0);

        await memsvc.Container.StopAsync(ct);
        Assert.Equal(TestcontainersStates.Exited, memsvc.Container.State);
        var exitCode = await memsvc.Container.GetExitCodeAsync(ct);
        var logs = await memsvc.LogsAsync();
        Log.Write($"container {memsvc.Container.Id[..12]} stopped with exit code {exitCode}");
        Assert.True(exitCode == 0, $"exit code {exitCode}; logs:\n{logs}");
        Assert.Contains("Application is shutting down...", logs, StringComparison.Ordinal);
        Assert.DoesNotContain("Unhandled exception", logs, StringComparison.Ordinal);
    }
}
