using Grpc.Core;
using Polly;
using Polly.Retry;

namespace MemSvc.Client.Resilience;

/// <summary>The Polly v8 pipelines, one per <see cref="CallKind"/>: jittered exponential backoff on transient statuses.</summary>
public sealed class RetryPipelines
{
    private readonly Dictionary<CallKind, ResiliencePipeline> _pipelines;

    public RetryPipelines(MemSvcClientOptions options, TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        _pipelines = new Dictionary<CallKind, ResiliencePipeline>
        {
            [CallKind.Read] = Build(options, timeProvider, CallKind.Read),
            [CallKind.IdempotentWrite] = Build(options, timeProvider, CallKind.IdempotentWrite),
            [CallKind.Delete] = Build(options, timeProvider, CallKind.Delete),
            [CallKind.NonIdempotent] = ResiliencePipeline.Empty,
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

        var builder = new ResiliencePipelineBuilder();
        if (timeProvider is not null)
        {
            builder.TimeProvider = timeProvider;
        }

        return builder
            .AddRetry(new RetryStrategyOptions
            {
                ShouldHandle = new PredicateBuilder().Handle<RpcException>(e => IsRetried(kind, e.StatusCode)),
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                MaxRetryAttempts = options.MaxRetryAttempts,
                Delay = options.RetryBaseDelay,
                MaxDelay = options.RetryMaxDelay,
            })
            .Build();
    }
}
