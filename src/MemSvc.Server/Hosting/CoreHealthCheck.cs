using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace MemSvc.Server.Hosting;

/// <summary>
/// SERVING while the VMM takes requests; NOT_SERVING once the host stops it. The result's description and data
/// name the default backend and, when kvm is not used, why: an operator's health endpoint shows what the node runs.
/// </summary>
internal sealed class CoreHealthCheck(IHostApplicationLifetime lifetime, CoreHost core) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var data = new Dictionary<string, object> { ["default_backend"] = core.DefaultBackend };
        if (core.KvmUnavailableReason is { } reason)
        {
            data["kvm_unavailable"] = reason;
        }

        var description = $"default backend {core.DefaultBackend}";
        return Task.FromResult(lifetime.ApplicationStopping.IsCancellationRequested
            ? HealthCheckResult.Unhealthy("stopping", data: data)
            : HealthCheckResult.Healthy(description, data));
    }
}
