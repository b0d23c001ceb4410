using MemSvc.Client;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

// The namespace of IServiceCollection, as Microsoft's own AddXxx extensions use: found without another using.
namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers a <see cref="MemSvcClient"/> in a service collection, with the options pattern.</summary>
public static class MemSvcClientServiceCollectionExtensions
{
    /// <summary>
    /// Registers one <see cref="MemSvcClient"/> (a singleton: it owns its channel, which the container disposes)
    /// built from <see cref="IOptions{MemSvcClientOptions}"/>. Its <see cref="MemSvcClientOptions.LoggerFactory"/>
    /// is the host's <see cref="ILoggerFactory"/> unless configured. Calling it again adds configuration, not a
    /// second client.
    /// </summary>
    /// <param name="services">The service collection.</param>
    /// <param name="configure">Sets the options, e.g. <c>o =&gt; o.SocketPath = "/run/memsvc/memsvc.sock"</c>.</param>
    /// <returns>The options builder, for more configuration: <c>.BindConfiguration("MemSvc:Client")</c>, <c>.Validate(...)</c>.</returns>
    public static OptionsBuilder<MemSvcClientOptions> AddMemSvcClient(this IServiceCollection services, Action<MemSvcClientOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        var options = services.AddOptions<MemSvcClientOptions>();
        if (configure is not null)
        {
            options.Configure(configure);
        }

        // PostConfigure: whatever order the caller's own configuration comes in, a factory it chose is kept.
        options.PostConfigure<IServiceProvider>((o, provider) =>
        {
            if (ReferenceEquals(o.LoggerFactory, NullLoggerFactory.Instance) && provider.GetService<ILoggerFactory>() is { } factory)
            {
                o.LoggerFactory = factory;
            }
        });
        services.TryAddSingleton(provider => new MemSvcClient(provider.GetRequiredService<IOptions<MemSvcClientOptions>>().Value));
        return options;
    }

    /// <summary>
    /// Registers one <see cref="MemSvcClient"/> whose options are bound from <paramref name="configuration"/>, such
    /// as <c>configuration.GetSection("MemSvc:Client")</c> with keys SocketPath, Address, DefaultDeadline,
    /// MaxRetryAttempts, ...
    /// </summary>
    /// <param name="services">The service collection.</param>
    /// <param name="configuration">The section to bind.</param>
    /// <returns>The options builder, for more configuration.</returns>
    public static OptionsBuilder<MemSvcClientOptions> AddMemSvcClient(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        return services.AddMemSvcClient().Bind(configuration);
    }
}
