using Grpc.Core;
using MemSvc.Client.Diagnostics;
using Microsoft.Extensions.Logging;
using Polly;
using Polly.Retry;

namespace MemSvc.Client.Resilience;

/// <summary>
/// The Polly v8 pipelines, one per <see cref="CallKind"/>: jittered exponential backoff on transient statuses for
/// the kinds that may repeat, and for every kind a retry of the server's admission refusals (rate limit,
/// in-flight limit), which come before the call runs and so are safe to repeat for any call.
/// </summary>
public sealed class RetryPipelines
{
    private readonly Dictionary<CallKind, ResiliencePipeline> _pipelines;

    /// <summary>The pipelines for <paramref name="options"/>' retry settings.</summary>
    /// <param name="options">Attempts and delays.</param>
    /// <param name="timeProvider">The clock the delays use; null: the system's (tests pass a fake one).</param>
    public RetryPipelines(MemSvcClientOptions options, TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        _pipelines = new Dictionary<CallKind, ResiliencePipeline>
        {
            [CallKind.Read] = Build(options, timeProvider, CallKind.Read),
            [CallKind.IdempotentWrite] = Build(options, timeProvider, CallKind.IdempotentWrite),
            [CallKind.Delete] = Build(options, timeProvider, CallKind.Delete),
            [CallKind.NonIdempotent] = Build(options, timeProvider, CallKind.NonIdempotent),
        };
    }

    /// <summary>The pipeline calls of <paramref name="kind"/> run in.</summary>
    public ResiliencePipeline For(CallKind kind) => _pipelines[kind];

    /// <summary>Whether the SDK retries a failure with <paramref name="code"/> for calls of <paramref name="kind"/>.</summary>
    public static bool IsRetried(CallKind kind, StatusCode code) => kind switch
    {
        CallKind.Read => code is StatusCode.Unavailable or StatusCode.DeadlineExceeded,
        CallKind.IdempotentWrite or CallKind.Delete => code == StatusCode.Unavailable,
        _ => false,
    };

    private static ResiliencePipeline Build(MemSvcClientOptions options, TimeProvider? timeProvider, CallKind kind)
    {
        if (options.MaxRetryAttempts <= 0)
        {
            return ResiliencePipeline.Empty;
        }

        var logger = options.LoggerFactory.CreateLogger(ClientLog.Category);
        var builder = new ResiliencePipelineBuilder();
        if (timeProvider is not null)
        {
            builder.TimeProvider = timeProvider;
        }

        // Outermost: transient failures, for the kinds that may repeat. Added second, so innermost: admission
        // refusals, retried for every attempt the transient retry makes.
        if (kind != CallKind.NonIdempotent)
        {
            builder.AddRetry(new RetryStrategyOptions
            {
                ShouldHandle = new PredicateBuilder().Handle<RpcException>(e => IsRetried(kind, e.StatusCode)),
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                MaxRetryAttempts = options.MaxRetryAttempts,
                Delay = options.RetryBaseDelay,
                MaxDelay = options.RetryMaxDelay,
                OnRetry = RetryLogging.For(logger, kind),
            });
        }

        return builder
            .AddRetry(new RetryStrategyOptions
            {
                ShouldHandle = new PredicateBuilder().Handle<RpcException>(e => AdmissionRefusal.Is(e, out _)),
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                MaxRetryAttempts = options.MaxRetryAttempts,
                Delay = options.RetryBaseDelay,
                MaxDelay = options.RetryMaxDelay,
                OnRetry = RetryLogging.For(logger, kind),
                // The rate limit says when a token is back: wait that long, plus up to as much again so that the
                // owner's other callers do not all come back in the same instant. Without it, the backoff above.
                DelayGenerator = args => ValueTask.FromResult(
                    args.Outcome.Exception is { } e && AdmissionRefusal.Is(e, out var after) && after is { } delay
                        ? (TimeSpan?)TimeSpan.FromTicks(Math.Min(options.RetryMaxDelay.Ticks, (long)(delay.Ticks * (1 + Random.Shared.NextDouble()))))
                        : null),
            })
            .Build();
    }
}
