using MemSvc.Contracts.V1;

namespace MemSvc.Client.Events;

/// <summary>
/// Where a watch stands in each VM's journal: per VM name, the incarnation (uid) it follows and the next sequence
/// it wants of it, and the start of every other VM. A new stream asks for exactly these, so a resume neither loses
/// nor repeats, and never continues one VM's position in another VM of the same name.
/// </summary>
internal sealed class WatchPositions
{
    private readonly Dictionary<string, (string Uid, ulong Next)> _next = new(StringComparer.Ordinal);

    private WatchPositions(ulong otherVms) => OtherVms = otherVms;

    /// <summary>The start of VMs without a position: for an all-VMs watch, ones created after it began (from 1).</summary>
    public ulong OtherVms { get; }

    public IReadOnlyDictionary<string, (string Uid, ulong Next)> Next => _next;

    /// <summary>
    /// The positions a watch begins with, pinned before the stream opens so that every resume can name them, with
    /// the incarnation of each VM. A start of 0 ("from now") becomes each VM's newest sequence plus one: a stream
    /// that breaks before its first event could not otherwise say where "now" was. An all-VMs watch pins every VM
    /// that exists now (at the start, or at "now"), and any VM it has no position for is one created after it
    /// began, new in full, from sequence 1: resuming with the original start would skip the beginning of a VM
    /// created while the watch was away.
    /// </summary>
    /// <param name="startSequence">The watch's start: a sequence, or 0 for "from now".</param>
    /// <param name="vms">The VMs the watch covers: name to uid and newest sequence.</param>
    /// <param name="cancellationToken">Cancels the listing.</param>
    public static async Task<WatchPositions> BeginAsync(
        ulong startSequence, Func<CancellationToken, Task<IReadOnlyDictionary<string, (string Uid, ulong Last)>>> vms, CancellationToken cancellationToken)
    {
        var positions = new WatchPositions(1);
        foreach (var (vm, (uid, last)) in await vms(cancellationToken).ConfigureAwait(false))
        {
            positions._next[vm] = (uid, startSequence > 0 ? startSequence : last + 1);
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
            positions._next[position.Vm] = (position.VmUid, position.NextSequence);
        }

        return positions;
    }

    /// <summary>
    /// Moves the VM's position past a delivered event, and returns the uid of the incarnation it held for that name
    /// when the event is another VM's (one whose end the stream did not say), else null.
    /// </summary>
    public string? Advance(string vm, string uid, ulong sequence) => MoveTo(vm, uid, sequence + 1);

    /// <summary>A bookmark: the VM's position moved to <paramref name="next"/> past events the watch skipped.</summary>
    public string? MoveTo(string vm, string uid, ulong next)
    {
        string? replaced = null;
        if (_next.TryGetValue(vm, out var held) && held.Uid.Length > 0 && held.Uid != uid)
        {
            replaced = held.Uid;
        }

        _next[vm] = (uid, next);
        return replaced;
    }

    /// <summary>
    /// The incarnation <paramref name="uid"/> of <paramref name="vm"/> ended: a VM of that name seen later is new,
    /// from 1. False when the watch held another incarnation of it (the end is old news).
    /// </summary>
    public bool End(string vm, string uid)
    {
        if (_next.TryGetValue(vm, out var held) && held.Uid.Length > 0 && held.Uid != uid)
        {
            return false;
        }

        _next.Remove(vm);
        return true;
    }

    /// <summary>The next sequence wanted of one VM.</summary>
    public ulong Of(string vm) => _next.TryGetValue(vm, out var held) ? held.Next : OtherVms;

    /// <summary>The incarnation followed of one VM; empty when none is known yet.</summary>
    public string UidOf(string vm) => _next.TryGetValue(vm, out var held) ? held.Uid : string.Empty;

    /// <summary>The lowest position of all, for progress reports.</summary>
    public ulong Lowest => _next.Count == 0 ? OtherVms : _next.Values.Min(p => p.Next);
}
