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
/// resolutions and health checks are never limited: a watcher that reconnects must always get in. A call past the
/// rate waits for its token up to MaxQueueWait, in arrival order; past that it is refused RESOURCE_EXHAUSTED
/// RATE_LIMITED with the retry delay in ErrorInfo metadata.
/// </summary>
internal sealed class MutationRateLimit : Interceptor, IDisposable
{
    private readonly ICallerResolver _callers;
    private readonly PartitionedRateLimiter<string> _limiter;
    private readonly TimeSpan _period;
    private readonly TimeSpan _maxQueueWait;

    public MutationRateLimit(ICallerResolver callers, IOptions<MemSvcOptions> options)
    {
        _callers = callers;
        var limits = options.Value.RateLimit;
        _period = TimeSpan.FromMinutes(1) / limits.MutationsPerMinute;
        _maxQueueWait = limits.MaxQueueWait;

        // Queued calls are the owner's calls in flight, so the in-flight limit bounds the queue too.
        var queueLimit = limits.MaxQueueWait > TimeSpan.Zero ? options.Value.Quotas.MaxInFlightRequestsPerOwner : 0;
        _limiter = PartitionedRateLimiter.Create<string, string>(owner => RateLimitPartition.GetTokenBucketLimiter(owner, _ => new TokenBucketRateLimiterOptions
        {
            TokenLimit = limits.MutationBurst,
            TokensPerPeriod = 1,
            ReplenishmentPeriod = _period,
            QueueLimit = queueLimit,
            QueueProcessingOrder = QueueProcessingOrder.OldestFirst,
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
            using var lease = await AcquireAsync(owner, context.CancellationToken).ConfigureAwait(false);
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

    // A token now, else one within MaxQueueWait (in arrival order), else a lease that is not acquired.
    private async ValueTask<RateLimitLease> AcquireAsync(string owner, CancellationToken callEnded)
    {
        var lease = _limiter.AttemptAcquire(owner);
        if (lease.IsAcquired || _maxQueueWait <= TimeSpan.Zero)
        {
            return lease;
        }

        lease.Dispose();
        using var wait = CancellationTokenSource.CreateLinkedTokenSource(callEnded);
        wait.CancelAfter(_maxQueueWait);
        try
        {
            return await _limiter.AcquireAsync(owner, 1, wait.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!callEnded.IsCancellationRequested)
        {
            return FailedLease.Instance;
        }
    }

    /// <summary>The answer for a call whose wait for a token ran out.</summary>
    private sealed class FailedLease : RateLimitLease
    {
        public static readonly FailedLease Instance = new();

        public override bool IsAcquired => false;

        public override IEnumerable<string> MetadataNames => [];

        public override bool TryGetMetadata(string metadataName, out object? metadata)
        {
            metadata = null;
            return false;
        }
    }
}
