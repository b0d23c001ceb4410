using MemSvc.Client.Connection;
using MemSvc.Client.Errors;
using MemSvc.Testing;

namespace MemSvc.Client.Tests.Connection;

/// <summary>The daemon's own interface: the Unix domain socket.</summary>
public sealed class SocketConnectionTests
{
    [Fact]
    public async Task A_client_over_the_unix_socket_reaches_the_server()
    {
        await using var server = await TestServer.StartAsync();
        using var client = MemSvcClient.ForSocket(server.SocketPath);

        var info = await client.Host.GetInfoAsync(TestContext.Current.CancellationToken);

        Assert.Contains(info.Backends, b => b.Backend == Contracts.V1.Backend.Simulated);
    }

    [Fact]
    public void The_default_socket_is_the_first_candidate_that_exists()
    {
        var runtime = Directory.CreateTempSubdirectory("memsvc-xdg-").FullName;
        try
        {
            Func<string, string?> environment = name => name == "XDG_RUNTIME_DIR" ? runtime : null;
            var candidates = DefaultEndpoint.SocketCandidates(environment);
            Assert.Equal(DefaultEndpoint.SocketPath, candidates[0]);
            Assert.Equal(Path.Combine(runtime, "memsvc", "memsvc.sock"), candidates[1]);

            Directory.CreateDirectory(Path.Combine(runtime, "memsvc"));
            File.WriteAllBytes(candidates[1], []);
            var expected = File.Exists(DefaultEndpoint.SocketPath) ? DefaultEndpoint.SocketPath : candidates[1];
            Assert.Equal(expected, DefaultEndpoint.ResolveSocket(environment));
        }
        finally
        {
            Directory.Delete(runtime, recursive: true);
        }
    }

    [Fact]
    public async Task A_socket_served_by_another_uid_than_required_gets_nothing_sent_and_a_clear_error()
    {
        await using var server = await TestServer.StartAsync();
        var ours = ServerUid();
        using var expecting = new MemSvcClient(new MemSvcClientOptions { SocketPath = server.SocketPath, SocketServerUid = ours + 1, MaxRetryAttempts = 0 });
        using var matching = new MemSvcClient(new MemSvcClientOptions { SocketPath = server.SocketPath, SocketServerUid = ours });

        var e = await Assert.ThrowsAsync<MemSvcException>(() => expecting.Host.GetInfoAsync(TestContext.Current.CancellationToken));
        var info = await matching.Host.GetInfoAsync(TestContext.Current.CancellationToken);

        Assert.Equal(Grpc.Core.StatusCode.Unavailable, e.StatusCode);
        Assert.Contains($"{server.SocketPath} is served by uid {ours}, not by uid {ours + 1} as expected", e.ToString(), StringComparison.Ordinal);
        Assert.NotEmpty(info.Backends);
    }

    [Fact]
    public void A_fallback_socket_in_a_directory_others_may_write_is_not_taken_and_a_fallback_requires_our_uid()
    {
        var runtime = Directory.CreateTempSubdirectory("memsvc-xdg-").FullName;
        try
        {
            Func<string, string?> environment = name => name == "XDG_RUNTIME_DIR" ? runtime : null;
            var fallback = DefaultEndpoint.SocketCandidates(environment)[1];
            Directory.CreateDirectory(Path.GetDirectoryName(fallback)!);
            File.WriteAllBytes(fallback, []);
            File.SetUnixFileMode(Path.GetDirectoryName(fallback)!, (UnixFileMode)0b111_111_111);

            var resolved = DefaultEndpoint.ResolveSocket(environment);

            Assert.NotEqual(fallback, resolved);
            Assert.Equal(ServerUid(), DefaultEndpoint.RequiredServerUid(fallback, environment));
            Assert.Null(DefaultEndpoint.RequiredServerUid(DefaultEndpoint.SocketPath, environment));
        }
        finally
        {
            Directory.Delete(runtime, recursive: true);
        }
    }

    // The test server runs in this process, so it is served by our effective uid.
    private static uint ServerUid() => uint.Parse(
        File.ReadLines("/proc/self/status").First(l => l.StartsWith("Uid:", StringComparison.Ordinal)).Split('\t', StringSplitOptions.RemoveEmptyEntries)[2],
        System.Globalization.CultureInfo.InvariantCulture);
}
