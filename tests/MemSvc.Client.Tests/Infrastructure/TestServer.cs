using MemSvc.Server.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace MemSvc.Testing;

/// <summary>
/// The real server, built by the server's own <see cref="MemSvcServer.Build"/>, in this process: an ephemeral
/// 127.0.0.1 port (h2c) and a Unix socket in a fresh directory, on the simulated backend.
/// </summary>
public sealed class TestServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly string _directory;

    private TestServer(WebApplication app, string directory, Uri loopback, string socketPath)
    {
        _app = app;
        _directory = directory;
        Loopback = loopback;
        SocketPath = socketPath;
    }

    public Uri Loopback { get; }

    public string SocketPath { get; }

    /// <param name="settings">Extra configuration, such as ("MemSvc:JournalRetention", "16").</param>
    public static Task<TestServer> StartAsync(params (string Key, string Value)[] settings) =>
        StartAtAsync(Path.Combine(Directory.CreateTempSubdirectory("memsvc-client-test-").FullName, "memsvc.sock"), settings);

    /// <summary>A server on the Unix socket <paramref name="socketPath"/>: a daemon restarted where its clients look for it.</summary>
    public static async Task<TestServer> StartAtAsync(string socketPath, params (string Key, string Value)[] settings)
    {
        var directory = Path.GetDirectoryName(socketPath)!;
        var args = new List<string>
        {
            $"--MemSvc:SocketPath={socketPath}",
            "--MemSvc:LoopbackPort=0",
            "--MemSvc:DefaultBackend=simulated",
            "--Logging:LogLevel:Default=Warning",
        };
        args.AddRange(settings.Select(s => $"--{s.Key}={s.Value}"));
        var app = MemSvcServer.Build([.. args], builder => builder.Logging.ClearProviders());
        await app.StartAsync(TestContext.Current.CancellationToken);
        var addresses = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses;
        var loopback = new Uri(addresses.Single(a => a.StartsWith("http://127.0.0.1:", StringComparison.Ordinal)));
        return new TestServer(app, directory, loopback, socketPath);
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync(CancellationToken.None);
        await _app.DisposeAsync();
        if (Directory.Exists(_directory))
        {
            Directory.Delete(_directory, recursive: true);
        }
    }
}
