using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Grpc.Net.Client;
using MemSvc.IntegrationTests.Infrastructure;
using MemSvc.IntegrationTests.Otlp;

namespace MemSvc.IntegrationTests;

/// <summary>
/// docker-compose.yml brought up for real with the compose tool installed here: its simulated-only service (the
/// no-kvm profile) from the image under test, its socket in a host folder, and its OpenTelemetry collector
/// (<see cref="CollectorImage"/>), to which MemSvc sends OTLP/gRPC on 127.0.0.1:4317 (host network). The
/// collector runs with Compose/collector-to-test.yml's configuration, which exports what it receives to an OTLP
/// endpoint in the test: the test reads the collector's output. Where the collector image does not exist
/// (.ci/docker/otel-collector-image.sh could not build it), the test stands in for the collector on its port
/// instead and compose starts MemSvc alone (--no-deps); the log says which of the two ran.
/// </summary>
[Collection(DockerCollection.Name)]
public sealed class ComposeUpTests(DockerFixture docker)
{
    private const int CollectorPort = 4317;
    private const string VmId = "compose";
    private const string CollectorOverride = "tests/MemSvc.IntegrationTests/Compose/collector-to-test.yml";

    [Fact(Timeout = 300_000)]
    public async Task Compose_up_serves_the_fault_flow_on_a_host_socket_folder_and_its_spans_reach_the_collector()
    {
        docker.SkipIfUnavailable();
        var ct = TestContext.Current.CancellationToken;
        var tool = ComposeProject.FindTool();
        Assert.SkipWhen(tool is null, "no compose tool (docker compose or docker-compose) is installed");
        Assert.SkipWhen(PortInUse(CollectorPort), $"127.0.0.1:{CollectorPort}, where docker-compose.yml sends telemetry, is in use here (a collector already runs?)");
        var collectorImage = CollectorImage.Name;
        bool withCollector;
        using (var engine = DockerEngine.FromEnvironment())
        {
            withCollector = await engine.ImageExistsAsync(collectorImage, ct);
        }

        await using var receiver = await OtlpReceiver.StartAsync(ct, withCollector ? 0 : CollectorPort);
        Log.Write(withCollector
            ? $"compose starts the collector {collectorImage}, which exports to the test at {receiver.Endpoint}"
            : $"FALLBACK: no collector image {collectorImage} (make it with .ci/docker/otel-collector-image.sh, or set " +
              $"OTEL_COLLECTOR_IMAGE): the test receives on 127.0.0.1:{CollectorPort} itself, and compose starts MemSvc alone");
        var socketDirectory = Directory.CreateTempSubdirectory("memsvc-compose-").FullName;
        // The image's user (uid 10001) creates the socket in the host folder, as an operator's chown would allow.
        File.SetUnixFileMode(socketDirectory, (UnixFileMode)0b111_111_111);
        var compose = new ComposeProject(tool!, new Dictionary<string, string>
        {
            ["KVM_GID"] = "none",
            ["MEMSVC_IMAGE"] = docker.Image,
            ["MEMSVC_SOCKET_DIR"] = socketDirectory,
            ["OTEL_COLLECTOR_IMAGE"] = collectorImage,
            ["MEMSVC_TEST_OTLP_ENDPOINT"] = new Uri(receiver.Endpoint).Authority,
        }, profile: "no-kvm", overrides: withCollector ? [CollectorOverride] : []);
        try
        {
            var up = withCollector ? compose.Run("up", "-d", "memsvc-simulated") : compose.Run("up", "-d", "--no-deps", "memsvc-simulated");
            Assert.True(up.ExitCode == 0, $"compose up failed ({up.ExitCode}): {up.Output}");
            var socket = Path.Combine(socketDirectory, "memsvc.sock");
            await WaitForFileAsync(socket, TimeSpan.FromSeconds(60), () => compose.Run("logs").Output);
            using var channel = SocketChannel(socket);
            var api = new MemSvcClients(channel);

            var fault = await FaultFlow.FaultAndConvertAsync(api, VmId, 0x1000, ct);

            Assert.Equal((0x1000UL, MemSvcClients.Page, true), (fault.Gpa, fault.Size, fault.Private));
            await WaitWithLogsAsync(receiver.WaitForAsync(received => ResolveFaultSpan(received) is not null, TimeSpan.FromSeconds(60), "the ResolveFault span"), compose);
            var span = ResolveFaultSpan(receiver)!;
            Log.Write($"ResolveFault span from '{span.Sender}': {string.Join(", ", span.Attributes.Select(a => $"{a.Key}={a.Value}"))}");
            Assert.Equal(("memsvc", "deployment.environment=compose"), ((string)span.Resource["service.name"], "deployment.environment=" + span.Resource["deployment.environment"]));
            Assert.Equal(("/memsvc.v1.EventService/ResolveFault", "0"), ((string)span.Attributes["grpc.method"], Convert.ToString(span.Attributes["grpc.status_code"], CultureInfo.InvariantCulture)));
            if (withCollector)
            {
                // The collector's OTLP exporter, not MemSvc's SDK, sent it: it went through the collector.
                Assert.StartsWith("OpenTelemetry Collector", span.Sender, StringComparison.Ordinal);
            }
        }
        finally
        {
            var down = compose.Run("down", "-v", "--timeout", "10");
            Log.Write($"compose down: {down.ExitCode}");
            Directory.Delete(socketDirectory, recursive: true);
        }
    }

    private static ReceivedSpan? ResolveFaultSpan(OtlpReceiver received) =>
        received.Spans.FirstOrDefault(s => s.Name.Contains("memsvc.v1.EventService/ResolveFault", StringComparison.Ordinal));

    private static bool PortInUse(int port)
    {
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            listener.Bind(new IPEndPoint(IPAddress.Loopback, port));
            return false;
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.AddressAlreadyInUse)
        {
            return true;
        }
    }

    // Spans that never arrive are the collector's or the service's story: their logs go with the failure.
    private static async Task WaitWithLogsAsync(Task waiting, ComposeProject compose)
    {
        try
        {
            await waiting;
        }
        catch (TimeoutException e)
        {
            throw new TimeoutException($"{e.Message}; the services' logs:\n{compose.Run("logs").Output}", e);
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
}
