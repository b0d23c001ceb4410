namespace MemSvc.Server.Security;

/// <summary>MemSvc:RateLimit: state-changing calls per owner (a token bucket; reads and watches are not counted).</summary>
public sealed class RateLimitOptions
{
    /// <summary>
    /// Sustained state-changing calls per minute, per owner (count). Default 6,000 per core the process may use
    /// (12,000 on 2 cores): each call's request path (HTTP/2, protobuf, interceptors) runs on the same thread pool as
    /// every other owner's, with no notion of owner, so one owner's sustained rate has to fit the cores. On a quiet
    /// 2-core machine 1,000 a second of one owner's conversions put another owner's GetVm p99 at 2.4x its idle value,
    /// 200 a second at 0.8-1.4x (BENCHMARKS.md, fairness).
    /// </summary>
    public int MutationsPerMinute { get; set; } = 6_000 * Environment.ProcessorCount;

    /// <summary>State-changing calls an owner may make at once before the sustained rate applies (count).</summary>
    public int MutationBurst { get; set; } = 2_000;

    /// <summary>
    /// How long a state-changing call past the rate may wait for its token before it is refused RATE_LIMITED.
    /// Waiting, a call costs nothing; refused, it comes back: 64 callers told "retry after 1 ms" made thousands of
    /// refusals a second, and those took the cores from other owners (BENCHMARKS.md, fairness); with 100 ms the
    /// 64 still came back ten times a second each. 0: refuse at once.
    /// </summary>
    public TimeSpan MaxQueueWait { get; set; } = TimeSpan.FromSeconds(1);
}
