using System.Net;
using System.Net.Sockets;
using System.Text.Json;

namespace Orchestrator.Tests;

/// <summary>
/// Whether the container tests can run here: a Docker engine answers, and it has the MemSvc image. Asked before
/// Testcontainers is, so that a missing engine or image is a skip with a reason rather than an error. It also
/// prepares what Testcontainers needs on such a host, unless set already: the engine's own API version when it is
/// older than Testcontainers' client speaks (Debian 12's engine is 1.41), and no Ryuk (its reaper, an image from
/// Docker Hub, which a closed network cannot pull; each test disposes its container itself).
/// </summary>
internal static class DockerAvailability
{
    /// <summary>The image to test: MEMSVC_TEST_IMAGE (CI names the one its integration tests built), else memsvc:local.</summary>
    public static string Image =>
        Environment.GetEnvironmentVariable("MEMSVC_TEST_IMAGE") is { Length: > 0 } image ? image : MemSvc.Testcontainers.MemSvcBuilder.DefaultImage;

    /// <summary>Why the container tests cannot run here, or null when they can.</summary>
    public static async Task<string?> SkipReasonAsync(CancellationToken cancellationToken)
    {
        var host = Environment.GetEnvironmentVariable("DOCKER_HOST") is { Length: > 0 } configured ? configured : "unix:///var/run/docker.sock";
        using var http = Client(host);
        try
        {
            using var ping = await http.GetAsync(new Uri("/_ping", UriKind.Relative), cancellationToken);
            if (!ping.IsSuccessStatusCode)
            {
                return $"the Docker engine at {host} answered {(int)ping.StatusCode}";
            }

            using (var version = await http.GetAsync(new Uri("/version", UriKind.Relative), cancellationToken))
            {
                using var json = JsonDocument.Parse(await version.Content.ReadAsStringAsync(cancellationToken));
                var api = json.RootElement.GetProperty("ApiVersion").GetString();
                if (Environment.GetEnvironmentVariable("DOCKER_API_VERSION") is null && Version.TryParse(api, out var engineApi) && engineApi < new Version(1, 44))
                {
                    Environment.SetEnvironmentVariable("DOCKER_API_VERSION", api);
                }
            }

            if (Environment.GetEnvironmentVariable("TESTCONTAINERS_RYUK_DISABLED") is null)
            {
                Environment.SetEnvironmentVariable("TESTCONTAINERS_RYUK_DISABLED", "true");
            }

            using var image = await http.GetAsync(new Uri($"/images/{Image}/json", UriKind.Relative), cancellationToken);
            return image.StatusCode == HttpStatusCode.NotFound
                ? $"the image {Image} is not in the Docker engine at {host}: build it (deploy/build-image.sh {Image}) or set MEMSVC_TEST_IMAGE"
                : null;
        }
        catch (Exception e) when (e is HttpRequestException or SocketException or TaskCanceledException or IOException)
        {
            return $"no Docker engine answers at {host} ({e.Message})";
        }
    }

    private static HttpClient Client(string host)
    {
        if (host.StartsWith("tcp://", StringComparison.Ordinal))
        {
            return new HttpClient { BaseAddress = new Uri("http://" + host["tcp://".Length..]), Timeout = TimeSpan.FromSeconds(10) };
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
        return new HttpClient(handler) { BaseAddress = new Uri("http://docker"), Timeout = TimeSpan.FromSeconds(10) };
    }
}
