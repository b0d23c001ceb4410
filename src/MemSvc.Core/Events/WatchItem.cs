namespace MemSvc.Core.Events;

/// <summary>
/// One message of a watch: a journal event, or a notice about the watch's place in a VM (progress messages, which
/// a watch asks for). A struct, so that the events, by far the most common item, cost no allocation to wrap.
/// </summary>
public readonly record struct WatchItem(VmEvent? Event, WatchNotice? Notice)
{
    public static implicit operator WatchItem(VmEvent evt) => new(evt, null);

    public static implicit operator WatchItem(WatchNotice notice) => new(null, notice);
}

/// <summary>A progress message: something about a VM's journal (of the incarnation <paramref name="VmUid"/>) that is not one of its events.</summary>
public abstract record WatchNotice(string VmId, string VmUid)
{
    /// <summary>
    /// The watch's position in the VM moved to <paramref name="NextSequence"/> past events its filter skipped:
    /// resuming there loses nothing the watch wants, and a client that keeps it stays inside the journal's window
    /// even when nothing it wants happens.
    /// </summary>
    public sealed record Bookmark(string VmId, string VmUid, ulong NextSequence) : WatchNotice(VmId, VmUid);

    /// <summary>
    /// The VM incarnation the watch covered ended: no event of it follows. <paramref name="NextSequence"/> is where
    /// its journal stood (at the end, or at the watcher's position when the end was found at the watch's start).
    /// A VM of the same name that a watch delivers afterwards is another one, from its sequence 1.
    /// </summary>
    public sealed record VmEnded(string VmId, string VmUid, ulong NextSequence, VmEndReason Reason) : WatchNotice(VmId, VmUid);
}

/// <summary>Why a watched VM ended.</summary>
public enum VmEndReason
{
    Unspecified = 0,

    /// <summary>Deleted (or, at the watch's start, gone with no VM of its name).</summary>
    Deleted = 1,

    /// <summary>Found at the watch's start: a VM of its name exists, but it is another incarnation.</summary>
    Replaced = 2,

    /// <summary>Lost with an earlier daemon process: its journal ends with a VM_LOST event.</summary>
    Lost = 3,
}

/// <summary>
/// Progress messages of a watch: a bookmark after <paramref name="Interval"/> in which the watch's position moved
/// without an event to show for it, or at once when it moved by a quarter of the journal's window.
/// </summary>
public sealed record BookmarkSettings(TimeSpan Interval)
{
    public static readonly TimeSpan DefaultInterval = TimeSpan.FromSeconds(5);
    public static readonly TimeSpan MinInterval = TimeSpan.FromMilliseconds(10);
    public static readonly TimeSpan MaxInterval = TimeSpan.FromHours(1);
}
