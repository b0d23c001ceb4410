namespace MemSvc.Server.Security;

/// <summary>MemSvc:RateLimit: state-changing calls per owner (a token bucket; reads and watches are not counted).</summary>
public sealed class RateLimitOptions
{
    /// <summary>Sustained state-changing calls per minute, per owner (count).</summary>
    public int MutationsPerMinute { get; set; } = 60_000;

    /// <summary>State-changing calls an owner may make at once before the sustained rate applies (count).</summary>
    public int MutationBurst { get; set; } = 2_000;

    /// <summary>
    /// How long a state-changing call past the rate may wait for its token before it is refused RATE_LIMITED.
    /// Waiting, a call costs nothing; refused, it comes back: 64 callers told "retry after 1 ms" made thousands of
    /// refusals a second, and those took the cores from other owners (BENCHMARKS.md, fairness). 0: refuse at once.
    /// </summary>
    public TimeSpan MaxQueueWait { get; set; } = TimeSpan.FromMilliseconds(100);
}
