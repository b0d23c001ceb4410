using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace MemSvc.Server.Hosting;

/// <summary>SERVING while the VMM takes requests; NOT_SERVING once the host stops it.</summary>
internal sealed class CoreHealthCheck(IHostApplicationLifetime lifetime) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(lifetime.ApplicationStopping.IsCancellationRequested
            ? HealthCheckResult.Unhealthy("stopping")
            : HealthCheckResult.Healthy());
}
