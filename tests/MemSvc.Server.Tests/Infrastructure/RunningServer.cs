using System.Net.Sockets;
using Grpc.Net.Client;
using MemSvc.Server.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace MemSvc.Server.Tests.Infrastructure;

/// <summary>
/// The real server, built by <see cref="MemSvcServer.Build"/> as Program builds it, listening on an ephemeral
/// 127.0.0.1 port and on a Unix socket in a fresh directory, with the simulated backend.
/// </summary>
public sealed class RunningServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly string _directory;
    private readonly List<GrpcChannel> _channels = [];

    private RunningServer(WebApplication app, string directory, Uri loopback, string socketPath)
    {
        _app = app;
        _directory = directory;
        Loopback = loopback;
        SocketPath = socketPath;
    }

    public Uri Loopback { get; }

    public string SocketPath { get; }

    public IServiceProvider Services => _app.Services;

    /// <param name="settings">Extra configuration, e.g. ("MemSvc:JournalRetention", "16").</param>
    public static Task<RunningServer> StartAsync(params (string Key, string Value)[] settings) => StartAsync(null, settings);

    /// <param name="configure">Changes to the server's builder after its own, e.g. a replaced service.</param>
    /// <param name="settings">Extra configuration.</param>
    public static async Task<RunningServer> StartAsync(Action<WebApplicationBuilder>? configure, params (string Key, string Value)[] settings)
    {
        var directory = Directory.CreateTempSubdirectory("memsvc-test-").FullName;
        var socketPath = Path.Combine(directory, "memsvc.sock");
        var args = new List<string>
        {
            $"--MemSvc:SocketPath={socketPath}",
            "--MemSvc:LoopbackPort=0",
            "--MemSvc:DefaultBackend=simulated",
            "--MemSvc:OpenKvm=false",
            "--Logging:LogLevel:Default=Warning",
        };
        args.AddRange(settings.Select(s => $"--{s.Key}={s.Value}"));
        var app = MemSvcServer.Build([.. args], builder =>
        {
            builder.Logging.ClearProviders();
            configure?.Invoke(builder);
        });
        try
        {
            await app.StartAsync(TestContext.Current.CancellationToken);
        }
        catch
        {
            await app.DisposeAsync();
            Directory.Delete(directory, recursive: true);
            throw;
        }

        var addresses = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses;
        var loopback = new Uri(addresses.Single(a => a.StartsWith("http://127.0.0.1:", StringComparison.Ordinal)));
        return new RunningServer(app, directory, loopback, socketPath);
    }

    /// <summary>A channel over loopback TCP (HTTP/2 without TLS).</summary>
    public GrpcChannel LoopbackChannel() => Track(GrpcChannel.ForAddress(Loopback, new GrpcChannelOptions { MaxReceiveMessageSize = 8 << 20 }));

    /// <summary>A channel over the Unix socket, as host-local clients use it.</summary>
    public GrpcChannel SocketChannel() => Track(SocketChannelTo(SocketPath));

    /// <summary>A channel to the Unix socket at <paramref name="socketPath"/> (this server's, or a child process's).</summary>
    public static GrpcChannel SocketChannelTo(string socketPath)
    {
        var handler = new SocketsHttpHandler
        {
            ConnectCallback = async (_, cancellationToken) =>
            {
                var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
                try
                {
                    await socket.ConnectAsync(new UnixDomainSocketEndPoint(socketPath), cancellationToken);
                    return new NetworkStream(socket, ownsSocket: true);
                }
                catch
                {
                    socket.Dispose();
                    throw;
                }
            },
        };
        return GrpcChannel.ForAddress("http://memsvc", new GrpcChannelOptions { HttpHandler = handler });
    }

    /// <summary>Stops the server as a SIGTERM would: the host's graceful shutdown.</summary>
    public Task StopAsync() => _app.StopAsync(TestContext.Current.CancellationToken);

    public async ValueTask DisposeAsync()
    {
        foreach (var channel in _channels)
        {
            channel.Dispose();
        }

        await _app.StopAsync(CancellationToken.None);
        await _app.DisposeAsync();
        Directory.Delete(_directory, recursive: true);
    }

    private GrpcChannel Track(GrpcChannel channel)
    {
        _channels.Add(channel);
        return channel;
    }
}
