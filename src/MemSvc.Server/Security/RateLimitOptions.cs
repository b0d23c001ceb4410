namespace MemSvc.Server.Security;

/// <summary>MemSvc:RateLimit: state-changing calls per owner (a token bucket; reads and watches are not counted).</summary>
public sealed class RateLimitOptions
{
    /// <summary>Sustained state-changing calls per minute, per owner (count).</summary>
    public int MutationsPerMinute { get; set; } = 60_000;

    /// <summary>State-changing calls an owner may make at once before the sustained rate applies (count).</summary>
    public int MutationBurst { get; set; } = 2_000;
}
