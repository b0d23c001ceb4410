using System.Diagnostics;
using System.Net.Sockets;
using Grpc.Net.Client;
using MemSvc.IntegrationTests.Infrastructure;
using MemSvc.IntegrationTests.Otlp;

namespace MemSvc.IntegrationTests;

/// <summary>
/// docker-compose.yml brought up for real with the compose tool installed here: its simulated-only service (the
/// no-kvm profile) from the image under test, its socket in a host folder, its telemetry sent where the file sends
/// it (OTLP/gRPC on 127.0.0.1:4317, host network). The collector's image cannot be pulled where these tests run,
/// so the test itself receives OTLP on the collector's port, and the compose service starts without it (--no-deps).
/// </summary>
[Collection(DockerCollection.Name)]
public sealed class ComposeUpTests(DockerFixture docker)
{
    private const int CollectorPort = 4317;
    private const string VmId = "compose";

    [Fact(Timeout = 300_000)]
    public async Task Compose_up_serves_the_fault_flow_on_a_host_socket_folder_and_its_spans_reach_the_collector_port()
    {
        docker.SkipIfUnavailable();
        var ct = TestContext.Current.CancellationToken;
        var compose = ComposeTool();
        Assert.SkipWhen(compose is null, "no compose tool (docker compose or docker-compose) is installed");
        await using var collector = await StartCollectorAsync(ct);
        var socketDirectory = Directory.CreateTempSubdirectory("memsvc-compose-").FullName;
        // The image's user (uid 10001) creates the socket in the host folder, as an operator's chown would allow.
        File.SetUnixFileMode(socketDirectory, (UnixFileMode)0b111_111_111);
        var project = "memsvc-it-" + Guid.NewGuid().ToString("N")[..8];
        var environment = new Dictionary<string, string>
        {
            ["KVM_GID"] = "none",
            ["MEMSVC_IMAGE"] = docker.Image,
            ["MEMSVC_SOCKET_DIR"] = socketDirectory,
        };
        try
        {
            var up = Run(compose, environment, ["-p", project, "-f", Path.Combine(RepositoryLayout.Root, "docker-compose.yml"), "--profile", "no-kvm", "up", "-d", "--no-deps", "memsvc-simulated"]);
            Assert.True(up.ExitCode == 0, $"compose up failed ({up.ExitCode}): {up.Output}");
            var socket = Path.Combine(socketDirectory, "memsvc.sock");
            await WaitForFileAsync(socket, TimeSpan.FromSeconds(60), () => Run(compose, environment, ["-p", project, "-f", Path.Combine(RepositoryLayout.Root, "docker-compose.yml"), "--profile", "no-kvm", "logs"]).Output);
            using var channel = SocketChannel(socket);
            var api = new MemSvcClients(channel);

            var fault = await FaultFlow.FaultAndConvertAsync(api, VmId, 0x1000, ct);

            Assert.Equal((0x1000UL, MemSvcClients.Page, true), (fault.Gpa, fault.Size, fault.Private));
            await collector.WaitForAsync(received => ResolveFaultSpan(received) is not null, TimeSpan.FromSeconds(60), "the ResolveFault span");
            var span = ResolveFaultSpan(collector)!;
            Assert.Equal(("memsvc", "deployment.environment=compose"), ((string)span.Resource["service.name"], "deployment.environment=" + span.Resource["deployment.environment"]));
        }
        finally
        {
            var down = Run(compose, environment, ["-p", project, "-f", Path.Combine(RepositoryLayout.Root, "docker-compose.yml"), "--profile", "no-kvm", "down", "-v", "--timeout", "10"]);
            Log.Write($"compose down: {down.ExitCode}");
            Directory.Delete(socketDirectory, recursive: true);
        }
    }

    private static ReceivedSpan? ResolveFaultSpan(OtlpReceiver received) =>
        received.Spans.FirstOrDefault(s => s.Name.Contains("memsvc.v1.EventService/ResolveFault", StringComparison.Ordinal));

    private static async Task<OtlpReceiver> StartCollectorAsync(CancellationToken ct)
    {
        try
        {
            return await OtlpReceiver.StartAsync(ct, CollectorPort);
        }
        catch (IOException e) when (e.InnerException is SocketException { SocketErrorCode: SocketError.AddressAlreadyInUse })
        {
            Assert.Skip($"127.0.0.1:{CollectorPort}, where docker-compose.yml sends telemetry, is in use here (a collector already runs?)");
            throw;
        }
    }

    private static async Task WaitForFileAsync(string path, TimeSpan patience, Func<string> logs)
    {
        var deadline = DateTime.UtcNow + patience;
        while (!File.Exists(path))
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"no socket at {path} within {patience.TotalSeconds:F0} s; the service's logs:\n{logs()}");
            }

            await Task.Delay(250, TestContext.Current.CancellationToken);
        }
    }

    private static GrpcChannel SocketChannel(string path) => GrpcChannel.ForAddress("http://localhost", new GrpcChannelOptions
    {
        HttpHandler = new SocketsHttpHandler
        {
            ConnectCallback = async (_, cancellationToken) =>
            {
                var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
                await socket.ConnectAsync(new UnixDomainSocketEndPoint(path), cancellationToken);
                return new NetworkStream(socket, ownsSocket: true);
            },
        },
    });

    // `docker compose` (the plugin) where it exists, else Debian's docker-compose v1.
    private static string[]? ComposeTool() =>
        Run(["docker"], new Dictionary<string, string>(), ["compose", "version"]).ExitCode == 0 ? ["docker", "compose"]
        : Run(["docker-compose"], new Dictionary<string, string>(), ["version"]).ExitCode == 0 ? ["docker-compose"]
        : null;

    private static (int ExitCode, string Output) Run(string[] tool, IReadOnlyDictionary<string, string> environment, string[] arguments)
    {
        var start = new ProcessStartInfo(tool[0], [.. tool[1..], .. arguments]) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var (name, value) in environment)
        {
            start.Environment[name] = value;
        }

        try
        {
            using var process = Process.Start(start)!;
            var stderr = process.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
            var stdout = process.StandardOutput.ReadToEnd();
            process.WaitForExit();
            return (process.ExitCode, stdout + stderr.Result);
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            return (-1, e.Message);
        }
    }
}
