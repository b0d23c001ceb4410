using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Docker.DotNet.Models;
using DotNet.Testcontainers.Builders;
using DotNet.Testcontainers.Configurations;
using DotNet.Testcontainers.Containers;
using DotNet.Testcontainers.Images;
using Grpc.Core;
using Grpc.Health.V1;
using Grpc.Net.Client;
using GrpcHealth = Grpc.Health.V1.Health;

namespace MemSvc.IntegrationTests.Infrastructure;

/// <summary>
/// One MemSvc container, started from the image under test and reachable on the host's loopback.
///
/// The container shares the host's network namespace: the server's TCP listener is loopback only (plaintext
/// h2c until TLS exists), and a published port cannot reach a listener on the container's own loopback. So
/// the server binds 127.0.0.1:{free port} of the host, and no traffic leaves loopback.
/// </summary>
internal sealed class MemSvcContainer : IAsyncDisposable
{
    // Set when a container of this image never became SERVING: the next tests fail at once with the same reason
    // instead of each waiting out the timeout again.
    private static string? _neverServing;

    private MemSvcContainer(IContainer container, int port, string? socketDirectory)
    {
        Container = container;
        Port = port;
        SocketDirectory = socketDirectory;
        Channel = GrpcChannel.ForAddress(Address);
    }

    public IContainer Container { get; }

    public int Port { get; }

    public string Address => $"http://127.0.0.1:{Port}";

    /// <summary>The host folder mounted on the container's /run/memsvc, when one was asked for.</summary>
    public string? SocketDirectory { get; }

    public GrpcChannel Channel { get; }

    /// <summary>True when the host has /dev/kvm, so that a container can be given it.</summary>
    public static bool HostHasKvm => File.Exists("/dev/kvm");

    /// <param name="image">The image under test.</param>
    /// <param name="withKvm">Pass the host's /dev/kvm into the container, with its group for the non-root user.</param>
    /// <param name="socketOnHost">Mount a fresh host folder on /run/memsvc, so that the host can use the socket.</param>
    /// <param name="environment">More environment variables for the server, such as the OTEL_* of its exporter.</param>
    /// <param name="readOnlyMounts">Host folders mounted read-only, host path to container path (TLS files, say).</param>
    public static async Task<MemSvcContainer> StartAsync(
        string image,
        bool withKvm = false,
        bool socketOnHost = false,
        IReadOnlyDictionary<string, string>? environment = null,
        IReadOnlyDictionary<string, string>? readOnlyMounts = null)
    {
        if (_neverServing is { } reason)
        {
            throw new InvalidOperationException($"an earlier container of this image never became SERVING: {reason}");
        }

        var cancellationToken = TestContext.Current.CancellationToken;
        var port = FreeLoopbackPort();
        string? socketDirectory = null;
        var serving = new UntilGrpcServing(port);
        var builder = new ContainerBuilder(image)
            .WithImagePullPolicy(PullPolicy.Never)
            .WithEnvironment("MemSvc__LoopbackPort", port.ToString(System.Globalization.CultureInfo.InvariantCulture))
            .WithEnvironment(environment ?? new Dictionary<string, string>())
            .WithCreateParameterModifier(parameters =>
            {
                parameters.HostConfig ??= new HostConfig();
                parameters.HostConfig.NetworkMode = "host";
                if (withKvm)
                {
                    parameters.HostConfig.Devices =
                    [
                        new DeviceMapping { PathOnHost = "/dev/kvm", PathInContainer = "/dev/kvm", CgroupPermissions = "rwm" },
                    ];
                    // The image's user is not root: /dev/kvm's group (its number differs between hosts) lets it open it.
                    parameters.HostConfig.GroupAdd = [KvmGroupId()];
                }
            })
            .WithWaitStrategy(Wait.ForUnixContainer().AddCustomWaitStrategy(
                serving,
                wait => wait.WithTimeout(TimeSpan.FromSeconds(45)).WithInterval(TimeSpan.FromMilliseconds(250))));

        foreach (var (host, inContainer) in readOnlyMounts ?? new Dictionary<string, string>())
        {
            builder = builder.WithBindMount(host, inContainer, AccessMode.ReadOnly);
        }

        if (socketOnHost)
        {
            socketDirectory = Directory.CreateTempSubdirectory("memsvc-socket-").FullName;
            // The container's user (uid 10001) creates the socket here; the host's test user connects to it.
            File.SetUnixFileMode(socketDirectory, (UnixFileMode)0b111_111_111);
            builder = builder.WithBindMount(socketDirectory, "/run/memsvc");
        }

        var container = builder.Build();
        var started = Stopwatch.StartNew();
        try
        {
            await container.StartAsync(cancellationToken);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            var (stdout, stderr) = await container.GetLogsAsync(ct: cancellationToken);
            await container.DisposeAsync();
            _neverServing = $"grpc.health.v1 answered {serving.LastAnswer} on 127.0.0.1:{port}";
            throw new InvalidOperationException(
                $"MemSvc container from {image} did not become SERVING on 127.0.0.1:{port} ({e.Message}); " +
                $"grpc.health.v1 last answered: {serving.LastAnswer}\n--- stdout\n{stdout}\n--- stderr\n{stderr}", e);
        }

        Log.Write($"container {container.Id[..12]} started from image {image} in {started.Elapsed.TotalSeconds:F1} s: " +
                  $"gRPC on 127.0.0.1:{port}{(withKvm ? ", /dev/kvm passed through" : string.Empty)}" +
                  $"{(socketDirectory is null ? string.Empty : $", socket in {socketDirectory}")}");
        return new MemSvcContainer(container, port, socketDirectory);
    }

    public async Task<string> LogsAsync()
    {
        var (stdout, stderr) = await Container.GetLogsAsync(ct: TestContext.Current.CancellationToken);
        return stdout + stderr;
    }

    public async ValueTask DisposeAsync()
    {
        Channel.Dispose();
        await Container.DisposeAsync();
        if (SocketDirectory is not null && Directory.Exists(SocketDirectory))
        {
            Directory.Delete(SocketDirectory, recursive: true);
        }
    }

    /// <summary>A loopback port free right now, for a listener the test has the server open.</summary>
    public static int FreeLoopbackPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static string KvmGroupId()
    {
        var start = new ProcessStartInfo("stat", ["-c", "%g", "/dev/kvm"]) { RedirectStandardOutput = true };
        using var stat = Process.Start(start) ?? throw new InvalidOperationException("could not run stat");
        var gid = stat.StandardOutput.ReadToEnd().Trim();
        stat.WaitForExit();
        return stat.ExitCode == 0 ? gid : throw new InvalidOperationException("stat -c %g /dev/kvm failed");
    }

    /// <summary>Ready means what the HEALTHCHECK and Kubernetes' probes mean: grpc.health.v1 answers SERVING.</summary>
    private sealed class UntilGrpcServing(int port) : IWaitUntil
    {
        /// <summary>What the last check saw, for the failure message (UNKNOWN: the server registers no health check).</summary>
        public string LastAnswer { get; private set; } = "nothing yet";

        public async Task<bool> UntilAsync(IContainer container)
        {
            using var channel = GrpcChannel.ForAddress($"http://127.0.0.1:{port}");
            try
            {
                var response = await new GrpcHealth.HealthClient(channel).CheckAsync(
                    new HealthCheckRequest(), deadline: DateTime.UtcNow.AddSeconds(2));
                LastAnswer = response.Status.ToString();
                return response.Status == HealthCheckResponse.Types.ServingStatus.Serving;
            }
            catch (RpcException e)
            {
                LastAnswer = $"{e.StatusCode} {e.Status.Detail} {e.Status.DebugException?.GetBaseException().Message}";
                return false;
            }
        }
    }
}
