using System.Globalization;
using MemSvc.Client;
using MemSvc.Server.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace MemSvc.Testing;

/// <summary>
/// MemSvc in the test's own process, as <c>WebApplicationFactory</c> runs an ASP.NET Core app: the real server
/// (its gRPC services, validation, errors, limits and event journal) on the simulated backend, listening on a Unix
/// socket in a fresh directory and on an ephemeral 127.0.0.1 port. No Docker and no /dev/kvm; Linux only.
/// <code>
/// await using var memsvc = await MemSvcTestServer.StartAsync(o => o.HostProfile = HostProfiles.Kvm618Pvm);
/// using var client = memsvc.CreateClient();
/// var host = await client.Host.GetInfoAsync();
/// </code>
/// Dispose it to stop the server and delete its socket directory; clients made by <see cref="CreateClient"/> are
/// disposed with it.
/// </summary>
public sealed class MemSvcTestServer : IAsyncDisposable
{
    private const string SocketName = "memsvc.sock";

    private readonly WebApplication _app;
    private readonly string? _ownedDirectory;
    private readonly List<MemSvcClient> _clients = [];
    private readonly Lock _lock = new();

    private MemSvcTestServer(WebApplication app, string? ownedDirectory, string socketPath, Uri address, string hostProfile)
    {
        _app = app;
        _ownedDirectory = ownedDirectory;
        SocketPath = socketPath;
        Address = address;
        HostProfile = hostProfile;
    }

    /// <summary>The server's Unix socket: what <see cref="CreateClient"/> connects to, as host-local orchestrators do.</summary>
    public string SocketPath { get; }

    /// <summary>
    /// The server's plaintext HTTP/2 address on 127.0.0.1 (an ephemeral port). Its callers are one owner, "local",
    /// and see other VMs than the socket's callers, who are owned by their uid.
    /// </summary>
    public Uri Address { get; }

    /// <summary>The simulated host this server is (<see cref="HostProfiles"/>).</summary>
    public string HostProfile { get; }

    /// <summary>Starts a server; it is listening when the task completes.</summary>
    /// <param name="configure">Changes to the defaults: host profile, timeouts, any other server setting.</param>
    /// <param name="cancellationToken">Cancels the start.</param>
    public static async Task<MemSvcTestServer> StartAsync(Action<MemSvcTestServerOptions>? configure = null, CancellationToken cancellationToken = default)
    {
        var options = new MemSvcTestServerOptions();
        configure?.Invoke(options);

        var ownedDirectory = options.SocketDirectory is null ? Directory.CreateTempSubdirectory("memsvc-").FullName : null;
        var socketPath = Path.Combine(options.SocketDirectory ?? ownedDirectory!, SocketName);
        WebApplication? app = null;
        try
        {
            app = MemSvcServer.Build(Arguments(options, socketPath), builder =>
            {
                // The server's own providers write to the console; a test's output is the test's.
                builder.Logging.ClearProviders();
                options.ConfigureLogging?.Invoke(builder.Logging);
            });
            await app.StartAsync(cancellationToken).ConfigureAwait(false);
            var addresses = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses ?? [];
            var address = new Uri(addresses.Single(a => a.StartsWith("http://127.0.0.1:", StringComparison.Ordinal)));
            return new MemSvcTestServer(app, ownedDirectory, socketPath, address, options.HostProfile);
        }
        catch
        {
            if (app is not null)
            {
                await app.DisposeAsync().ConfigureAwait(false);
            }

            DeleteDirectory(ownedDirectory);
            throw;
        }
    }

    /// <summary>
    /// A client over the server's socket. It is disposed with the server; dispose it sooner to close its channel.
    /// </summary>
    /// <param name="configure">Changes to the client's options (retries, deadlines, a logger factory).</param>
    public MemSvcClient CreateClient(Action<MemSvcClientOptions>? configure = null)
    {
        var options = new MemSvcClientOptions { SocketPath = SocketPath };
        configure?.Invoke(options);
        var client = new MemSvcClient(options);
        lock (_lock)
        {
            _clients.Add(client);
        }

        return client;
    }

    /// <summary>Stops the server (as a SIGTERM would), disposes the clients it made and deletes its socket directory.</summary>
    public async ValueTask DisposeAsync()
    {
        lock (_lock)
        {
            foreach (var client in _clients)
            {
                client.Dispose();
            }

            _clients.Clear();
        }

        await _app.StopAsync(CancellationToken.None).ConfigureAwait(false);
        await _app.DisposeAsync().ConfigureAwait(false);
        DeleteDirectory(_ownedDirectory);
    }

    private static string[] Arguments(MemSvcTestServerOptions options, string socketPath)
    {
        var settings = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase)
        {
            ["MemSvc:SocketPath"] = socketPath,
            ["MemSvc:LoopbackPort"] = "0",
            // Simulated only, even where /dev/kvm exists: a unit test must not create real VMs.
            ["MemSvc:OpenKvm"] = "false",
            ["MemSvc:DefaultBackend"] = "simulated",
            ["MemSvc:Simulated:HostProfile"] = options.HostProfile,
            ["Logging:LogLevel:Default"] = "Warning",
        };
        if (options.ResolutionTimeout is { } timeout)
        {
            settings["MemSvc:ResolutionTimeout"] = timeout.ToString("c", CultureInfo.InvariantCulture);
        }

        if (options.JournalRetention is { } retention)
        {
            settings["MemSvc:JournalRetention"] = retention.ToString(CultureInfo.InvariantCulture);
        }

        foreach (var (key, value) in options.Settings)
        {
            settings[key] = value;
        }

        return [.. settings.Select(s => $"--{s.Key}={s.Value}")];
    }

    private static void DeleteDirectory(string? directory)
    {
        if (directory is not null && Directory.Exists(directory))
        {
            Directory.Delete(directory, recursive: true);
        }
    }
}
