using Docker.DotNet.Models;
using DotNet.Testcontainers.Configurations;

namespace MemSvc.Testcontainers;

/// <summary>The settings of a <see cref="MemSvcBuilder"/>, immutable: each With... makes a merged copy.</summary>
public sealed class MemSvcConfiguration : ContainerConfiguration
{
    /// <summary>A configuration of MemSvc's own settings; null leaves one as it was.</summary>
    /// <param name="backend">The default backend.</param>
    /// <param name="hostProfile">The simulated backend's host profile.</param>
    /// <param name="loopbackPort">The host loopback port the server listens on (chosen by Build).</param>
    /// <param name="socketDirectory">The host folder mounted on the container's /run/memsvc (made by Build).</param>
    public MemSvcConfiguration(MemSvcBackend? backend = null, string? hostProfile = null, int? loopbackPort = null, string? socketDirectory = null)
    {
        Backend = backend;
        HostProfile = hostProfile;
        LoopbackPort = loopbackPort;
        SocketDirectory = socketDirectory;
    }

    /// <summary>A copy of a generic resource configuration (Testcontainers' own With... methods).</summary>
    /// <param name="resourceConfiguration">The configuration to copy.</param>
    public MemSvcConfiguration(IResourceConfiguration<CreateContainerParameters> resourceConfiguration)
        : base(resourceConfiguration)
    {
    }

    /// <summary>A copy of a container configuration (Testcontainers' own With... methods).</summary>
    /// <param name="resourceConfiguration">The configuration to copy.</param>
    public MemSvcConfiguration(IContainerConfiguration resourceConfiguration)
        : base(resourceConfiguration)
    {
    }

    /// <summary>A copy of <paramref name="resourceConfiguration"/>.</summary>
    /// <param name="resourceConfiguration">The configuration to copy.</param>
    public MemSvcConfiguration(MemSvcConfiguration resourceConfiguration)
        : this(new MemSvcConfiguration(), resourceConfiguration)
    {
    }

    /// <summary><paramref name="newValue"/>'s settings over <paramref name="oldValue"/>'s.</summary>
    /// <param name="oldValue">The configuration so far.</param>
    /// <param name="newValue">The settings to apply over it.</param>
    public MemSvcConfiguration(MemSvcConfiguration oldValue, MemSvcConfiguration newValue)
        : base(oldValue, newValue)
    {
        ArgumentNullException.ThrowIfNull(oldValue);
        ArgumentNullException.ThrowIfNull(newValue);
        Backend = newValue.Backend ?? oldValue.Backend;
        HostProfile = newValue.HostProfile ?? oldValue.HostProfile;
        LoopbackPort = newValue.LoopbackPort ?? oldValue.LoopbackPort;
        SocketDirectory = newValue.SocketDirectory ?? oldValue.SocketDirectory;
    }

    /// <summary>The default backend; <see cref="MemSvcBackend.Simulated"/> unless set.</summary>
    public MemSvcBackend? Backend { get; }

    /// <summary>The simulated backend's host profile ("kvm-6.18-pvm", ...); null: the image's default.</summary>
    public string? HostProfile { get; }

    /// <summary>The host loopback port the server listens on, once <see cref="MemSvcBuilder.Build"/> chose it.</summary>
    public int? LoopbackPort { get; }

    /// <summary>The host folder that holds the server's socket, once <see cref="MemSvcBuilder.Build"/> made it.</summary>
    public string? SocketDirectory { get; }
}
