using MemSvc.Client.Resilience;
using Polly;
using Polly.Retry;
using Polly.Testing;

namespace MemSvc.Client.Tests.Resilience;

/// <summary>The shape of the Polly pipelines, read back with Polly.Testing.</summary>
public sealed class PipelineCompositionTests
{
    private readonly RetryPipelines _pipelines = new(new MemSvcClientOptions
    {
        MaxRetryAttempts = 3,
        RetryBaseDelay = TimeSpan.FromMilliseconds(200),
        RetryMaxDelay = TimeSpan.FromSeconds(2),
    });

    [Theory]
    [InlineData(CallKind.Read)]
    [InlineData(CallKind.IdempotentWrite)]
    [InlineData(CallKind.Delete)]
    public void Retried_kinds_have_a_jittered_exponential_retry_around_the_admission_retry(CallKind kind)
    {
        var strategies = _pipelines.For(kind).GetPipelineDescriptor().Strategies;

        Assert.Equal(2, strategies.Count);
        var transient = AssertBackoff(strategies[0].Options);
        Assert.Null(transient.DelayGenerator);
        var admission = AssertBackoff(strategies[1].Options);
        Assert.NotNull(admission.DelayGenerator);
    }

    [Fact]
    public void Non_idempotent_calls_are_retried_only_when_refused_at_admission()
    {
        var admission = AssertBackoff(Assert.Single(_pipelines.For(CallKind.NonIdempotent).GetPipelineDescriptor().Strategies).Options);
        Assert.NotNull(admission.DelayGenerator);
    }

    private static RetryStrategyOptions AssertBackoff(ResilienceStrategyOptions? options)
    {
        var retry = Assert.IsType<RetryStrategyOptions>(options);
        Assert.Equal(DelayBackoffType.Exponential, retry.BackoffType);
        Assert.True(retry.UseJitter);
        Assert.Equal(3, retry.MaxRetryAttempts);
        Assert.Equal(TimeSpan.FromMilliseconds(200), retry.Delay);
        Assert.Equal(TimeSpan.FromSeconds(2), retry.MaxDelay);
        return retry;
    }

    [Theory]
    [InlineData(CallKind.Read, Grpc.Core.StatusCode.Unavailable, true)]
    [InlineData(CallKind.Read, Grpc.Core.StatusCode.DeadlineExceeded, true)]
    [InlineData(CallKind.Read, Grpc.Core.StatusCode.NotFound, false)]
    [InlineData(CallKind.IdempotentWrite, Grpc.Core.StatusCode.Unavailable, true)]
    [InlineData(CallKind.IdempotentWrite, Grpc.Core.StatusCode.DeadlineExceeded, false)]
    [InlineData(CallKind.Delete, Grpc.Core.StatusCode.DeadlineExceeded, false)]
    [InlineData(CallKind.NonIdempotent, Grpc.Core.StatusCode.Unavailable, false)]
    public void Which_statuses_each_kind_retries(CallKind kind, Grpc.Core.StatusCode code, bool retried) =>
        Assert.Equal(retried, RetryPipelines.IsRetried(kind, code));
}
