using MemSvc.Contracts.V1;

namespace MemSvc.Client.Events;

/// <summary>
/// Where a watch stands in each VM's journal: the next sequence it wants of every VM it has a position for,
/// and the start of every other VM. A new stream asks for exactly these, so a resume neither loses nor repeats.
/// </summary>
internal sealed class WatchPositions
{
    private readonly Dictionary<string, ulong> _next = new(StringComparer.Ordinal);

    private WatchPositions(ulong otherVms) => OtherVms = otherVms;

    /// <summary>The start of VMs without a position: for an all-VMs watch, ones created after it began (from 1).</summary>
    public ulong OtherVms { get; }

    public IReadOnlyDictionary<string, ulong> Next => _next;

    /// <summary>
    /// The positions a watch begins with, pinned before the stream opens so that every resume can name them.
    /// A start of 0 ("from now") becomes each VM's newest sequence plus one: a stream that breaks before its
    /// first event could not otherwise say where "now" was. An all-VMs watch pins every VM that exists now (at
    /// the start, or at "now"), and any VM it has no position for is one created after it began, new in full,
    /// from sequence 1: resuming with the original start would skip the beginning of a VM created while the
    /// watch was away.
    /// </summary>
    /// <param name="lastSequences">The newest sequence of every VM the watch covers.</param>
    public static async Task<WatchPositions> BeginAsync(
        bool allVms, ulong startSequence, Func<CancellationToken, Task<IReadOnlyDictionary<string, ulong>>> lastSequences, CancellationToken cancellationToken)
    {
        if (!allVms && startSequence > 0)
        {
            return new WatchPositions(startSequence);
        }

        var positions = new WatchPositions(1);
        foreach (var (vm, last) in await lastSequences(cancellationToken).ConfigureAwait(false))
        {
            positions._next[vm] = startSequence > 0 ? startSequence : last + 1;
        }

        return positions;
    }

    /// <summary>
    /// The positions of a listing (ListPendingFaults): each VM it names from there, any other from 1, since an
    /// all-VMs listing names every VM that existed when it was taken.
    /// </summary>
    public static WatchPositions From(IEnumerable<VmEventPosition> listed)
    {
        var positions = new WatchPositions(1);
        foreach (var position in listed)
        {
            positions._next[position.Vm] = position.NextSequence;
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

    /// <summary>A bookmark: the VM's position moved to <paramref name="next"/> past events the watch skipped.</summary>
    public void MoveTo(string vm, ulong next) => _next[vm] = next;

    /// <summary>The next sequence wanted of one VM.</summary>
    public ulong Of(string vm) => _next.TryGetValue(vm, out var next) ? next : OtherVms;

    /// <summary>The lowest position of all, for progress reports.</summary>
    public ulong Lowest => _next.Count == 0 ? OtherVms : _next.Values.Min();
}
