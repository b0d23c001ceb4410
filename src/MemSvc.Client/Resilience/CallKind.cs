namespace MemSvc.Client.Resilience;

/// <summary>How safe a call is to repeat, which decides what the SDK retries.</summary>
public enum CallKind
{
    /// <summary>Changes nothing: retried on UNAVAILABLE and on DEADLINE_EXCEEDED.</summary>
    Read,

    /// <summary>
    /// Changes state, but a repeat leaves the same state (set attributes, convert, write bytes, load a program, or
    /// a create carrying a request_id): retried on UNAVAILABLE only, since a deadline may hit after the server applied it.
    /// </summary>
    IdempotentWrite,

    /// <summary>
    /// A delete: retried on UNAVAILABLE, and a NOT_FOUND on a retry counts as success (the lost first attempt
    /// deleted it).
    /// </summary>
    Delete,

    /// <summary>
    /// A repeat would do something else (start a vCPU, resolve a fault, create without request_id): never retried once
    /// it may have run; only the server's admission refusals (rate and in-flight limits, decided before it runs) are.
    /// </summary>
    NonIdempotent,
}
