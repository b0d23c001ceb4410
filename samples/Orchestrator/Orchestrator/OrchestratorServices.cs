using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Orchestrator;

/// <summary>The orchestrator's services, shared by Program and the tests.</summary>
public static class OrchestratorServices
{
    /// <summary>The MemSvc client from "MemSvc:Client", the policy from "Placement", and the resolver.</summary>
    public static IServiceCollection AddOrchestrator(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddMemSvcClient(configuration.GetSection("MemSvc:Client"));
        services.AddOptions<PlacementOptions>().Bind(configuration.GetSection("Placement"));
        services.AddSingleton<PlacementPolicy>();
        services.AddSingleton<FaultResolver>();
        services.AddHostedService(provider => provider.GetRequiredService<FaultResolver>());
        return services;
    }
}
