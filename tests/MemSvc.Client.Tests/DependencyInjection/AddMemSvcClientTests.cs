using MemSvc.Client.Tests.Infrastructure;
using MemSvc.Testing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace MemSvc.Client.Tests.DependencyInjection;

/// <summary>services.AddMemSvcClient: the options pattern, configuration binding, the host's logging, one client.</summary>
public sealed class AddMemSvcClientTests
{
    [Fact]
    public void Options_bind_from_a_configuration_section()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["MemSvc:Client:SocketPath"] = "/run/other/memsvc.sock",
            ["MemSvc:Client:Address"] = "http://127.0.0.1:50051",
            ["MemSvc:Client:DefaultDeadline"] = "00:00:07",
            ["MemSvc:Client:MaxRetryAttempts"] = "2",
            ["MemSvc:Client:RetryBaseDelay"] = "00:00:00.250",
            ["MemSvc:Client:WatchMaxConsecutiveFailures"] = "9",
        }).Build();
        var services = new ServiceCollection();

        services.AddMemSvcClient(configuration.GetSection("MemSvc:Client"));

        using var provider = services.BuildServiceProvider();
        var options = provider.GetRequiredService<IOptions<MemSvcClientOptions>>().Value;
        Assert.Equal(
            ("/run/other/memsvc.sock", new Uri("http://127.0.0.1:50051"), TimeSpan.FromSeconds(7), 2, TimeSpan.FromMilliseconds(250), (int?)9),
            (options.SocketPath, options.Address, options.DefaultDeadline, options.MaxRetryAttempts, options.RetryBaseDelay, options.WatchMaxConsecutiveFailures));
        // What the section leaves out keeps its default.
        Assert.Equal((TimeSpan.FromSeconds(5), 0), (options.RetryMaxDelay, options.Interceptors.Count));
    }

    [Fact]
    public async Task The_registered_client_is_one_singleton_that_reaches_the_server_and_is_disposed_with_the_container()
    {
        await using var server = await TestServer.StartAsync();
        var services = new ServiceCollection();
        services.AddMemSvcClient(o => o.SocketPath = server.SocketPath);
        services.AddMemSvcClient(o => o.DefaultDeadline = TimeSpan.FromSeconds(3));

        MemSvcClient client;
        await using (var provider = services.BuildServiceProvider())
        {
            client = provider.GetRequiredService<MemSvcClient>();
            Assert.Same(client, provider.GetRequiredService<MemSvcClient>());
            Assert.Equal((server.SocketPath, TimeSpan.FromSeconds(3)), (client.Options.SocketPath, client.Options.DefaultDeadline));
            var info = await client.Host.GetInfoAsync(TestContext.Current.CancellationToken);
            Assert.Equal(Contracts.V1.Backend.Simulated, info.DefaultBackend);
        }

        await Assert.ThrowsAsync<ObjectDisposedException>(() => client.Host.GetInfoAsync(TestContext.Current.CancellationToken));
    }

    [Fact]
    public void The_hosts_logger_factory_is_used_unless_one_was_configured()
    {
        var hostFactory = new ListLoggerFactory();
        var chosen = new ListLoggerFactory();

        var withHost = new ServiceCollection().AddSingleton<ILoggerFactory>(hostFactory);
        withHost.AddMemSvcClient(o => o.SocketPath = "/nowhere.sock");
        var withChoice = new ServiceCollection().AddSingleton<ILoggerFactory>(hostFactory);
        withChoice.AddMemSvcClient(o => o.LoggerFactory = chosen);
        var withoutLogging = new ServiceCollection();
        withoutLogging.AddMemSvcClient();

        using var a = withHost.BuildServiceProvider();
        using var b = withChoice.BuildServiceProvider();
        using var c = withoutLogging.BuildServiceProvider();
        Assert.Same(hostFactory, a.GetRequiredService<IOptions<MemSvcClientOptions>>().Value.LoggerFactory);
        Assert.Same(chosen, b.GetRequiredService<IOptions<MemSvcClientOptions>>().Value.LoggerFactory);
        Assert.Same(NullLoggerFactory.Instance, c.GetRequiredService<IOptions<MemSvcClientOptions>>().Value.LoggerFactory);
    }
}
