using System.Net;
using System.Net.Sockets;
using System.Text.Json;

namespace MemSvc.IntegrationTests.Infrastructure;

/// <summary>
/// The few questions the fixture asks the Docker engine before Testcontainers does anything: is it there, and
/// does a local base image exist. Asked over the engine's HTTP API directly, so that the answer is a clear skip
/// reason rather than an exception from deep inside a client library.
/// </summary>
internal sealed class DockerEngine : IDisposable
{
    private readonly HttpClient _http;

    private DockerEngine(HttpClient http, string endpoint)
    {
        _http = http;
        Endpoint = endpoint;
    }

    public string Endpoint { get; }

    /// <summary>The engine named by DOCKER_HOST (unix:// or tcp://), else /var/run/docker.sock.</summary>
    public static DockerEngine FromEnvironment()
    {
        var host = Environment.GetEnvironmentVariable("DOCKER_HOST");
        if (string.IsNullOrEmpty(host))
        {
            host = "unix:///var/run/docker.sock";
        }

        if (host.StartsWith("tcp://", StringComparison.Ordinal))
        {
            var http = new HttpClient { BaseAddress = new Uri("http://" + host["tcp://".Length..]), Timeout = TimeSpan.FromSeconds(10) };
            return new DockerEngine(http, host);
        }

        var path = host.StartsWith("unix://", StringComparison.Ordinal) ? host["unix://".Length..] : host;
        var handler = new SocketsHttpHandler
        {
            ConnectCallback = async (_, cancellationToken) =>
            {
                var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
                try
                {
                    await socket.ConnectAsync(new UnixDomainSocketEndPoint(path), cancellationToken);
                    return new NetworkStream(socket, ownsSocket: true);
                }
                catch
                {
                    socket.Dispose();
                    throw;
                }
            },
        };
        return new DockerEngine(new HttpClient(handler) { BaseAddress = new Uri("http://docker"), Timeout = TimeSpan.FromSeconds(10) }, host);
    }

    /// <summary>The engine's API version (such as 1.41), known once <see cref="VersionAsync"/> answered.</summary>
    public string? ApiVersion { get; private set; }

    /// <summary>The engine's version and API version, or null with the reason when it does not answer.</summary>
    public async Task<(string? Version, string Reason)> VersionAsync(CancellationToken cancellationToken)
    {
        try
        {
            using var response = await _http.GetAsync(new Uri("/version", UriKind.Relative), cancellationToken);
            if (!response.IsSuccessStatusCode)
            {
                return (null, $"the Docker engine at {Endpoint} answered {(int)response.StatusCode}");
            }

            using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync(cancellationToken));
            var version = json.RootElement.GetProperty("Version").GetString();
            ApiVersion = json.RootElement.GetProperty("ApiVersion").GetString();
            return ($"{version} (API {ApiVersion})", string.Empty);
        }
        catch (Exception e) when (e is HttpRequestException or SocketException or TaskCanceledException or IOException)
        {
            return (null, $"no Docker engine answers at {Endpoint} ({e.Message}); start one (.ci/docker/start-dockerd.sh) or set DOCKER_HOST");
        }
    }

    public async Task<bool> ImageExistsAsync(string image, CancellationToken cancellationToken)
    {
        using var response = await _http.GetAsync(new Uri($"/images/{image}/json", UriKind.Relative), cancellationToken);
        return response.StatusCode switch
        {
            HttpStatusCode.OK => true,
            HttpStatusCode.NotFound => false,
            _ => throw new InvalidOperationException($"docker image inspect {image}: {(int)response.StatusCode}"),
        };
    }

    /// <summary>docker inspect of a container or an image, as JSON.</summary>
    public async Task<JsonDocument> InspectAsync(string kind, string id, CancellationToken cancellationToken)
    {
        using var response = await _http.GetAsync(new Uri($"/{kind}/{id}/json", UriKind.Relative), cancellationToken);
        response.EnsureSuccessStatusCode();
        return JsonDocument.Parse(await response.Content.ReadAsStringAsync(cancellationToken));
    }

    public void Dispose() => _http.Dispose();
}
