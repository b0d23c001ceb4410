using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Docker.DotNet.Models;
using DotNet.Testcontainers.Builders;
using DotNet.Testcontainers.Configurations;
using DotNet.Testcontainers.Images;

namespace MemSvc.Testcontainers;

/// <summary>
/// Builds a <see cref="MemSvcContainer"/>, in the manner of Testcontainers' modules:
/// <code>
/// var memsvc = new MemSvcBuilder("memsvc:local").WithBackend(MemSvcBackend.Simulated).Build();
/// await memsvc.StartAsync();
/// using var client = memsvc.GetClient();
/// </code>
/// The container shares the host's network namespace: MemSvc's plaintext TCP listener is loopback only (TCP
/// beyond loopback is mTLS), which a published port cannot reach, so the server binds a free port on the host's
/// 127.0.0.1 instead and nothing leaves loopback. Its /run/memsvc is a fresh host folder, so the host sees the
/// socket too. It is ready when grpc.health.v1 answers SERVING, as the image's HEALTHCHECK and Kubernetes' probes
/// mean it.
/// </summary>
public sealed class MemSvcBuilder : ContainerBuilder<MemSvcBuilder, MemSvcContainer, MemSvcConfiguration>
{
    /// <summary>The image <see cref="MemSvcBuilder()"/> starts: what <c>deploy/build-image.sh</c> tags by default.</summary>
    public const string DefaultImage = "memsvc:local";

    /// <summary>Where the server's socket is in the container (the image's MemSvc:SocketPath).</summary>
    public const string ContainerSocketPath = "/run/memsvc/memsvc.sock";

    /// <summary>A builder for <see cref="DefaultImage"/>; <see cref="ContainerBuilder{TBuilderEntity, TContainerEntity, TConfigurationEntity}.WithImage(string)"/> names another.</summary>
    public MemSvcBuilder()
        : this(DefaultImage)
    {
    }

    /// <summary>A builder for <paramref name="image"/> (repository and tag, e.g. <c>registry.example.com/memsvc:0.1.0</c>).</summary>
    /// <param name="image">The image.</param>
    public MemSvcBuilder(string image)
        : this(new DockerImage(image))
    {
    }

    /// <summary>A builder for <paramref name="image"/>.</summary>
    /// <param name="image">The image.</param>
    public MemSvcBuilder(IImage image)
        : this(new MemSvcConfiguration())
    {
        DockerResourceConfiguration = Init().WithImage(image).DockerResourceConfiguration;
    }

    private MemSvcBuilder(MemSvcConfiguration resourceConfiguration)
        : base(resourceConfiguration)
    {
        DockerResourceConfiguration = resourceConfiguration;
    }

    /// <inheritdoc/>
    protected override MemSvcConfiguration DockerResourceConfiguration { get; }

    /// <summary>The backend VMs use unless CreateVm names one; <see cref="MemSvcBackend.Simulated"/> by default.</summary>
    /// <param name="backend">The backend.</param>
    /// <returns>A configured builder.</returns>
    public MemSvcBuilder WithBackend(MemSvcBackend backend) =>
        Merge(DockerResourceConfiguration, new MemSvcConfiguration(backend: backend))
            .WithEnvironment("MemSvc__DefaultBackend", backend.ToString().ToLowerInvariant())
            .WithEnvironment("MemSvc__OpenKvm", backend == MemSvcBackend.Simulated ? "false" : "true");

    /// <summary>Which host the simulated backend is ("default", "kvm-6.18-pvm", "kvm-6.18-pvm-no-gmem", "kvm-7.2-debian").</summary>
    /// <param name="hostProfile">The profile's name (MemSvc:Simulated:HostProfile).</param>
    /// <returns>A configured builder.</returns>
    public MemSvcBuilder WithHostProfile(string hostProfile) =>
        Merge(DockerResourceConfiguration, new MemSvcConfiguration(hostProfile: hostProfile))
            .WithEnvironment("MemSvc__Simulated__HostProfile", hostProfile);

    /// <summary>Any server setting by its configuration key, e.g. ("MemSvc:ResolutionTimeout", "00:00:05").</summary>
    /// <param name="key">The key, sections separated by ':'.</param>
    /// <param name="value">The value.</param>
    /// <returns>A configured builder.</returns>
    public MemSvcBuilder WithSetting(string key, string value)
    {
        ArgumentException.ThrowIfNullOrEmpty(key);
        return WithEnvironment(key.Replace(":", "__", StringComparison.Ordinal), value);
    }

    /// <inheritdoc/>
    public override MemSvcContainer Build()
    {
        Validate();
        var backend = DockerResourceConfiguration.Backend ?? MemSvcBackend.Simulated;
        var passKvm = backend == MemSvcBackend.Kvm || (backend == MemSvcBackend.Auto && File.Exists("/dev/kvm"));
        var kvmGroup = passKvm ? KvmDevice.GroupId() : null;
        var port = FreeLoopbackPort();
        var socketDirectory = Directory.CreateTempSubdirectory("memsvc-socket-").FullName;
        // The image's user (uid 10001) creates the socket here.
        File.SetUnixFileMode(socketDirectory, (UnixFileMode)0b111_111_111);

        // A backend never set is the simulated one: the image's own default ("auto") would try a /dev/kvm it was not given.
        var configured = DockerResourceConfiguration.Backend is null ? WithBackend(backend) : this;
        var builder = configured
            .Merge(configured.DockerResourceConfiguration, new MemSvcConfiguration(loopbackPort: port, socketDirectory: socketDirectory))
            .WithEnvironment("MemSvc__LoopbackPort", port.ToString(CultureInfo.InvariantCulture))
            .WithBindMount(socketDirectory, "/run/memsvc")
            .WithCreateParameterModifier(parameters =>
            {
                parameters.HostConfig ??= new HostConfig();
                parameters.HostConfig.NetworkMode = "host";
                if (kvmGroup is not null)
                {
                    parameters.HostConfig.Devices =
                    [
                        new DeviceMapping { PathOnHost = "/dev/kvm", PathInContainer = "/dev/kvm", CgroupPermissions = "rwm" },
                    ];
                    // The image's user is not root: /dev/kvm's group (its number differs between hosts) lets it open it.
                    parameters.HostConfig.GroupAdd = [kvmGroup];
                }
            });

        // The base builder's one wait strategy (running) is all there is unless the caller added one of their own.
        if (DockerResourceConfiguration.WaitStrategies.Count() <= 1)
        {
            builder = builder.WithWaitStrategy(Wait.ForUnixContainer().AddCustomWaitStrategy(
                new UntilGrpcServing(port), wait => wait.WithTimeout(TimeSpan.FromSeconds(60)).WithInterval(TimeSpan.FromMilliseconds(250))));
        }

        return new MemSvcContainer(builder.DockerResourceConfiguration);
    }

    /// <inheritdoc/>
    protected override MemSvcBuilder Clone(IResourceConfiguration<CreateContainerParameters> resourceConfiguration) =>
        Merge(DockerResourceConfiguration, new MemSvcConfiguration(resourceConfiguration));

    /// <inheritdoc/>
    protected override MemSvcBuilder Clone(IContainerConfiguration resourceConfiguration) =>
        Merge(DockerResourceConfiguration, new MemSvcConfiguration(resourceConfiguration));

    /// <inheritdoc/>
    protected override MemSvcBuilder Merge(MemSvcConfiguration oldValue, MemSvcConfiguration newValue) =>
        new(new MemSvcConfiguration(oldValue, newValue));

    private static int FreeLoopbackPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
