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
    public void Retried_kinds_have_one_jittered_exponential_retry(CallKind kind)
    {
        var descriptor = _pipelines.For(kind).GetPipelineDescriptor();

        var retry = Assert.IsType<RetryStrategyOptions>(Assert.Single(descriptor.Strategies).Options);
        Assert.Equal(DelayBackoffType.Exponential, retry.BackoffType);
        Assert.True(retry.UseJitter);
        Assert.Equal(3, retry.MaxRetryAttempts);
        Assert.Equal(TimeSpan.FromMilliseconds(200), retry.Delay);
        Assert.Equal(TimeSpan.FromSeconds(2), retry.MaxDelay);
    }

    [Fact]
    public void Non_idempotent_calls_run_without_any_strategy() =>
        Assert.Empty(_pipelines.For(CallKind.NonIdempotent).GetPipelineDescriptor().Strategies);

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
