using MemSvc.Client.Connection;
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
}
