using DotNet.Testcontainers.Containers;
using MemSvc.Client;

namespace MemSvc.Testcontainers;

/// <summary>
/// A MemSvc container made by <see cref="MemSvcBuilder"/>: its loopback address, its socket on the host, and
/// clients for it. Disposing it removes the container and the host folder that held its socket.
/// </summary>
public sealed class MemSvcContainer : DockerContainer
{
    private readonly MemSvcConfiguration _configuration;

    /// <summary>A container of <paramref name="configuration"/> (made by <see cref="MemSvcBuilder.Build"/>).</summary>
    /// <param name="configuration">The container's configuration.</param>
    public MemSvcContainer(MemSvcConfiguration configuration)
        : base(configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        _configuration = configuration;
    }

    /// <summary>The server's plaintext HTTP/2 address on the host's 127.0.0.1; its callers are the owner "local".</summary>
    public Uri GetAddress() =>
        new($"http://127.0.0.1:{_configuration.LoopbackPort ?? throw new InvalidOperationException("the container was not made by MemSvcBuilder.Build")}");

    /// <summary>
    /// The server's Unix socket, seen from the host. The server creates it as the image's user (uid 10001, mode
    /// 0660): a host process needs that uid, its group, or root to connect.
    /// </summary>
    public string GetSocketPath() =>
        Path.Combine(_configuration.SocketDirectory ?? throw new InvalidOperationException("the container was not made by MemSvcBuilder.Build"), "memsvc.sock");

    /// <summary>A new client over <see cref="GetAddress"/>; the caller disposes it.</summary>
    /// <param name="configure">Changes to the client's options (retries, deadlines, a logger factory).</param>
    public MemSvcClient GetClient(Action<MemSvcClientOptions>? configure = null)
    {
        var options = new MemSvcClientOptions { Address = GetAddress() };
        configure?.Invoke(options);
        return new MemSvcClient(options);
    }

    /// <inheritdoc/>
    protected override async ValueTask DisposeAsyncCore()
    {
        await base.DisposeAsyncCore().ConfigureAwait(false);
        if (_configuration.SocketDirectory is { } directory && Directory.Exists(directory))
        {
            // The container's user made the socket; a folder of the host's user with mode 0777 lets it be removed.
            Directory.Delete(directory, recursive: true);
        }
    }
}
