using System.Diagnostics;
using System.Net.Sockets;
using Docker.DotNet.Models;
using DotNet.Testcontainers.Builders;
using DotNet.Testcontainers.Configurations;
using DotNet.Testcontainers.Containers;
using DotNet.Testcontainers.Images;
using Grpc.Health.V1;
using Grpc.Net.Client;
using MemSvc.Contracts.V1;
using MemSvc.IntegrationTests.Infrastructure;

namespace MemSvc.IntegrationTests;

/// <summary>
/// The image as an operator deploys it by default: no TCP port at all, the socket the only interface and guarded by
/// its group against other local users, and a daemon told to use kvm that refuses, naming the fix, where it cannot.
/// </summary>
[Collection(DockerCollection.Name)]
public sealed class DeploymentTests(DockerFixture docker)
{
    private const string NobodyUid = "65534";
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact(Timeout = 180_000)]
    public async Task The_default_image_listens_on_no_TCP_port_and_another_uid_needs_the_socket_group()
    {
        docker.SkipIfUnavailable();
        var socketDirectory = Directory.CreateTempSubdirectory("memsvc-deploy-").FullName;
        // As an operator prepares it (deploy/README.md): the image's uid and gid own it, 0750.
        File.SetUnixFileMode(socketDirectory, (UnixFileMode)0b111_101_000);
        Assert.Equal(0, Run("chown", "10001:10001", socketDirectory).ExitCode);
        var socketPath = Path.Combine(socketDirectory, "memsvc.sock");
        await using var container = new ContainerBuilder(docker.Image)
            .WithImagePullPolicy(PullPolicy.Never)
            .WithEnvironment("MemSvc__SocketGroup", "10001")
            .WithEnvironment("MemSvc__DefaultBackend", "simulated")
            .WithBindMount(socketDirectory, "/run/memsvc")
            .WithCreateParameterModifier(p => (p.HostConfig ??= new HostConfig()).NetworkMode = "none")
            .Build();
        try
        {
            await container.StartAsync(Ct);
            using var channel = SocketChannel(socketPath);
            await WaitServingAsync(channel);

            // Its own network namespace: /proc/net/tcp{,6} list every socket of the container; none listens (0A).
            var tcp = await container.ExecAsync(["cat", "/proc/net/tcp", "/proc/net/tcp6"], Ct);
            Assert.Equal(0, tcp.ExitCode);
            Assert.DoesNotContain(tcp.Stdout.Split('\n').Skip(1), line => line.Split(' ', StringSplitOptions.RemoveEmptyEntries) is [_, _, _, "0A", ..]);

            // The test's own uid (root) owns a VM; uid 65534 cannot connect without group 10001, and with it sees none of root's VMs.
            var api = new MemSvcClients(channel);
            await api.Vms.CreateVmAsync(new CreateVmRequest { VmId = "roots", Backend = Backend.Simulated, VcpuCount = 1 }, cancellationToken: Ct);
            Assert.Equal(10001U, StatGroup(socketPath));
            var refused = Run("setpriv", $"--reuid={NobodyUid}", $"--regid={NobodyUid}", "--clear-groups", "--", "/usr/bin/python3", "-c", ConnectScript, socketPath);
            Assert.Equal((1, true), (refused.ExitCode, refused.Output.Contains("PermissionError", StringComparison.Ordinal)));
            var allowed = Run("setpriv", $"--reuid={NobodyUid}", $"--regid={NobodyUid}", "--groups=10001", "--", "/usr/bin/python3", "-c", ConnectScript, socketPath);
            Assert.Equal((0, string.Empty), (allowed.ExitCode, allowed.Output.Trim()));
            var cli = Path.Combine(RepositoryLayout.Root, "src", "MemSvc.Cli", "bin", "Release", "net10.0", "memsvcctl.dll");
            Assert.SkipUnless(File.Exists(cli), $"memsvcctl is not built at {cli}");
            var dotnet = Path.GetFullPath(Path.Combine(Path.GetDirectoryName(typeof(object).Assembly.Location)!, "..", "..", "..", "dotnet"));
            var other = Run("setpriv", $"--reuid={NobodyUid}", $"--regid={NobodyUid}", "--groups=10001", "--", dotnet, cli, "--socket", socketPath, "vm", "get", "roots");
            Assert.NotEqual(0, other.ExitCode);
            Assert.Contains("NOT_FOUND", other.Output, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(socketDirectory, recursive: true);
        }
    }

    [Fact(Timeout = 180_000)]
    public async Task A_kvm_daemon_that_cannot_open_dev_kvm_exits_naming_the_error_and_the_fix()
    {
        docker.SkipIfUnavailable();
        Assert.SkipWhen(File.Exists("/dev/kvm"), "this host has /dev/kvm");
        await using var container = new ContainerBuilder(docker.Image)
            .WithImagePullPolicy(PullPolicy.Never)
            .WithEnvironment("MemSvc__DefaultBackend", "kvm")
            .WithCreateParameterModifier(p => (p.HostConfig ??= new HostConfig()).NetworkMode = "none")
            .Build();
        await container.StartAsync(Ct);

        // GetExitCodeAsync waits for the container to stop; a daemon that kept running would hold it until the timeout.
        using var patience = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        patience.CancelAfter(TimeSpan.FromSeconds(60));
        var exitCode = await container.GetExitCodeAsync(patience.Token);
        var (stdout, stderr) = await container.GetLogsAsync(ct: Ct);
        Assert.NotEqual(0, exitCode);
        Assert.Contains("MemSvc:DefaultBackend is 'kvm'", stdout + stderr, StringComparison.Ordinal);
        Assert.Contains("Fix: load kvm_intel or kvm_amd on the host; in a container, map the device", stdout + stderr, StringComparison.Ordinal);
    }

    private const string ConnectScript = "import socket, sys\ns = socket.socket(socket.AF_UNIX)\ns.connect(sys.argv[1])";

    private static GrpcChannel SocketChannel(string socketPath) => GrpcChannel.ForAddress("http://localhost", new GrpcChannelOptions
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

    private static async Task WaitServingAsync(GrpcChannel channel)
    {
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                var health = await new Grpc.Health.V1.Health.HealthClient(channel).CheckAsync(new HealthCheckRequest(), cancellationToken: Ct);
                if (health.Status == HealthCheckResponse.Types.ServingStatus.Serving)
                {
                    return;
                }
            }
            catch (Grpc.Core.RpcException) when (deadline.Elapsed < TimeSpan.FromSeconds(45))
            {
            }

            await Task.Delay(250, Ct);
        }
    }

    private static uint StatGroup(string path)
    {
        var stat = Run("stat", "-c", "%g", path);
        return uint.Parse(stat.Output.Trim(), System.Globalization.CultureInfo.InvariantCulture);
    }

    private static (int ExitCode, string Output) Run(string file, params string[] arguments)
    {
        var start = new ProcessStartInfo(file, arguments) { RedirectStandardOutput = true, RedirectStandardError = true };
        start.Environment["HOME"] = "/tmp";
        start.Environment["DOTNET_CLI_HOME"] = "/tmp";
        using var process = Process.Start(start)!;
        var stderr = process.StandardError.ReadToEndAsync(Ct);
        var stdout = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        return (process.ExitCode, stdout + stderr.Result);
    }
}
