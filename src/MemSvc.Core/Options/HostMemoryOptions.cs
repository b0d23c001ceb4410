namespace MemSvc.Core.Options;

/// <summary>
/// The host-wide cap on guest memory, over every owner: <see cref="OvercommitRatio"/> × the memory the host gives
/// the process, minus <see cref="ReservedBytes"/> for the daemon itself. Per-owner quotas alone ignore the host: a
/// few owners within their quotas could together ask for more memory than the machine has.
/// </summary>
public sealed record HostMemoryOptions
{
    /// <summary>
    /// Guest memory (guest_memfd sizes plus anonymous shared backings) may reach this multiple of the host's
    /// memory. 1.0 promises no more than exists; above 1 overcommits, for guests that touch little of their memory.
    /// </summary>
    public double OvercommitRatio { get; init; } = 1.0;

    /// <summary>Bytes kept back for the daemon itself (runtime, journals, connections), in bytes.</summary>
    public ulong ReservedBytes { get; init; } = 1UL << 30;

    /// <summary>Where the host's memory figure comes from; null: no host-wide cap (Core embedded without a host).</summary>
    public IHostMemory? Source { get; init; }

    /// <summary>The cap in bytes, or null without a source: ratio × available − reserve, never below 0.</summary>
    internal ulong? Cap()
    {
        if (Source is null)
        {
            return null;
        }

        var scaled = Source.AvailableBytes() * OvercommitRatio;
        var capped = scaled >= ulong.MaxValue ? ulong.MaxValue : (ulong)scaled;
        return capped > ReservedBytes ? capped - ReservedBytes : 0;
    }
}
