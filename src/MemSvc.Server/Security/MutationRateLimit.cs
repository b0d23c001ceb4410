using System.Globalization;
using System.Threading.RateLimiting;
using Grpc.Core;
using Grpc.Core.Interceptors;
using MemSvc.Contracts.V1;
using MemSvc.Core.Errors;
using MemSvc.Server.Errors;
using MemSvc.Server.Hosting;
using MemSvc.Server.Identity;
using MemSvc.Server.Telemetry;
using Microsoft.Extensions.Options;

namespace MemSvc.Server.Security;

/// <summary>
/// A token bucket per owner for the RPCs that change state (those whose <c>(memsvc.v1.policy)</c> says
/// rate_limited), so that one orchestrator's loop cannot starve the host's other owners. Reads, watches, fault
/// resolutions and health checks are never limited: a watcher that reconnects must always get in. Refusals are
/// RESOURCE_EXHAUSTED RATE_LIMITED with the retry delay in ErrorInfo metadata.
/// </summary>
internal sealed class MutationRateLimit : Interceptor, IDisposable
{
    private readonly ICallerResolver _callers;
    private readonly PartitionedRateLimiter<string> _limiter;
    private readonly TimeSpan _period;

    public MutationRateLimit(ICallerResolver callers, IOptions<MemSvcOptions> options)
    {
        _callers = callers;
        var limits = options.Value.RateLimit;
        _period = TimeSpan.FromMinutes(1) / limits.MutationsPerMinute;
        _limiter = PartitionedRateLimiter.Create<string, string>(owner => RateLimitPartition.GetTokenBucketLimiter(owner, _ => new TokenBucketRateLimiterOptions
        {
            TokenLimit = limits.MutationBurst,
            TokensPerPeriod = 1,
            ReplenishmentPeriod = _period,
            QueueLimit = 0,
            AutoReplenishment = true,
        }));
    }

    public override async Task<TResponse> UnaryServerHandler<TRequest, TResponse>(
        TRequest request, ServerCallContext context, UnaryServerMethod<TRequest, TResponse> continuation)
    {
        // ResolveFault mutates but is not rate-limited (its declaration says why): its rate is set by the owner's
        // own vCPUs faulting, each fault resolvable once, and throttling it would stall those vCPUs.
        if (MethodPolicies.Find(context.Method) is { RateLimited: true })
        {
            var owner = _callers.Resolve(context).Identity;
            using var lease = _limiter.AttemptAcquire(owner);
            if (!lease.IsAcquired)
            {
                ServerMetrics.CallRefused(owner, context.Method, ServerMetrics.RateLimited);
                throw new CoreException(
                    ErrorKind.ResourceExhausted,
                    ServerReasons.RateLimited,
                    $"owner '{owner}' exceeded its rate of state-changing calls; retry after {_period.TotalMilliseconds.ToString("F0", CultureInfo.InvariantCulture)} ms",
                    null,
                    new Dictionary<string, string> { ["retry_after_ms"] = _period.TotalMilliseconds.ToString("F0", CultureInfo.InvariantCulture) });
            }
        }

        return await continuation(request, context).ConfigureAwait(false);
    }

    public void Dispose() => _limiter.Dispose();
}
