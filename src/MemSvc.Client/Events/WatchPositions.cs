namespace MemSvc.Client.Events;

/// <summary>
/// Where a watch stands in each VM's journal: the next sequence it wants of every VM it has a position for,
/// and the start of every other VM. A new stream asks for exactly these, so a resume neither loses nor repeats.
/// </summary>
internal sealed class WatchPositions
{
    private readonly Dictionary<string, ulong> _next = new(StringComparer.Ordinal);

    private WatchPositions(ulong otherVms) => OtherVms = otherVms;

    /// <summary>The start of VMs without a position: ones created after the watch began start at 1.</summary>
    public ulong OtherVms { get; }

    public IReadOnlyDictionary<string, ulong> Next => _next;

    /// <summary>
    /// The positions a watch begins with. A start of 0 ("from now") is pinned to each VM's newest sequence plus
    /// one, read before the stream opens, because a stream that breaks before its first event could not
    /// otherwise say where "now" was; VMs created after that read are new in full and start at 1.
    /// </summary>
    public static async Task<WatchPositions> BeginAsync(
        ulong startSequence, Func<CancellationToken, Task<IReadOnlyDictionary<string, ulong>>> lastSequences, CancellationToken cancellationToken)
    {
        if (startSequence > 0)
        {
            return new WatchPositions(startSequence);
        }

        var positions = new WatchPositions(1);
        foreach (var (vm, last) in await lastSequences(cancellationToken).ConfigureAwait(false))
        {
            positions._next[vm] = last + 1;
        }

        return positions;
    }

    /// <summary>Moves the VM's position past a delivered event.</summary>
    /// <remarks>
    /// The server starts each VM exactly at its position, so it never repeats an event; an event below the
    /// position is from a VM deleted and created again under that name, whose sequences start over at 1, and is
    /// new to this watch like the rest of that VM's journal.
    /// </remarks>
    public void Advance(string vm, ulong sequence) => _next[vm] = sequence + 1;

    /// <summary>The next sequence wanted of one VM.</summary>
    public ulong Of(string vm) => _next.TryGetValue(vm, out var next) ? next : OtherVms;

    /// <summary>The lowest position of all, for progress reports.</summary>
    public ulong Lowest => _next.Count == 0 ? OtherVms : Math.Min(OtherVms, _next.Values.Min());
}
