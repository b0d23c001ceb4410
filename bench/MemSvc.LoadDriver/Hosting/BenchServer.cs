using System.Net.Sockets;
using Grpc.Net.Client;
using MemSvc.Server.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;

namespace MemSvc.LoadDriver.Hosting;

/// <summary>
/// The real MemSvc host (<see cref="MemSvcServer.Build"/>, as Program builds it) in this process, simulated backend,
/// listening on an ephemeral 127.0.0.1 port and a Unix socket; the bare baseline service is mapped on the same
/// Kestrel, so both sides of every comparison share the process, the listeners and the transport.
/// </summary>
internal sealed class BenchServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly string _directory;

    private BenchServer(WebApplication app, string directory, Uri loopback, string socketPath)
    {
        _app = app;
        _directory = directory;
        Loopback = loopback;
        SocketPath = socketPath;
    }

    public Uri Loopback { get; }

    public string SocketPath { get; }

    public IServiceProvider Services => _app.Services;

    /// <param name="journalRetention">Events each VM's journal keeps.</param>
    /// <param name="settings">More configuration, such as ("MemSvc:Quotas:MaxVmsPerOwner", "1100").</param>
    public static async Task<BenchServer> StartAsync(int journalRetention, params (string Key, string Value)[] settings)
    {
        var directory = Directory.CreateTempSubdirectory("memsvc-bench-").FullName;
        var socketPath = Path.Combine(directory, "memsvc.sock");
        string[] args =
        [
            $"--MemSvc:SocketPath={socketPath}",
            "--MemSvc:LoopbackPort=0",
            "--MemSvc:DefaultBackend=simulated",
            "--MemSvc:OpenKvm=false",
            $"--MemSvc:JournalRetention={journalRetention}",
            "--Logging:LogLevel:Default=Warning",
            .. settings.Select(s => $"--{s.Key}={s.Value}"),
        ];
        var app = MemSvcServer.Build(args, builder => builder.Logging.ClearProviders());
        app.MapGrpcService<BaselineGrpcService>();
        try
        {
            await app.StartAsync().ConfigureAwait(false);
        }
        catch
        {
            await app.DisposeAsync().ConfigureAwait(false);
            Directory.Delete(directory, recursive: true);
            throw;
        }

        var addresses = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses;
        var loopback = new Uri(addresses.Single(a => a.StartsWith("http://127.0.0.1:", StringComparison.Ordinal)));
        return new BenchServer(app, directory, loopback, socketPath);
    }

    /// <summary>A new channel (its own HTTP/2 connection) on <paramref name="transport"/>.</summary>
    public GrpcChannel Channel(Transport transport)
    {
        var options = new GrpcChannelOptions { MaxReceiveMessageSize = 16 << 20 };
        if (transport == Transport.Tcp)
        {
            return GrpcChannel.ForAddress(Loopback, options);
        }

        options.HttpHandler = new SocketsHttpHandler
        {
            ConnectCallback = async (_, cancellationToken) =>
            {
                var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
                try
                {
                    await socket.ConnectAsync(new UnixDomainSocketEndPoint(SocketPath), cancellationToken).ConfigureAwait(false);
                    return new NetworkStream(socket, ownsSocket: true);
                }
                catch
                {
                    socket.Dispose();
                    throw;
                }
            },
        };
        return GrpcChannel.ForAddress("http://memsvc", options);
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync(CancellationToken.None).ConfigureAwait(false);
        await _app.DisposeAsync().ConfigureAwait(false);
        Directory.Delete(_directory, recursive: true);
    }
}
