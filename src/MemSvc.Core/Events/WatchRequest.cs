using MemSvc.Core.Errors;
using MemSvc.Core.Vms;

namespace MemSvc.Core.Events;

/// <summary>What a watch covers, where it starts, what it delivers.</summary>
public sealed record WatchRequest
{
    private static readonly IReadOnlyDictionary<string, ulong> NoStarts = new Dictionary<string, ulong>();

    /// <summary>The VM; null or empty: every VM the caller may see, VMs created while watching included.</summary>
    public string? VmId { get; init; }

    /// <summary>
    /// The incarnation of <see cref="VmId"/> the watch means (empty: whichever holds the name): when another VM
    /// holds the name now, the watch fails FAILED_PRECONDITION VM_REPLACED instead of joining it. Named, a start past
    /// the journal's end waits for it; unnamed, it fails OUT_OF_RANGE SEQUENCE_BEYOND_END (it may be an earlier
    /// VM's position).
    /// </summary>
    public string VmUid { get; init; } = string.Empty;

    /// <summary>First sequence to deliver (0: only events appended from now on); for an all-VMs watch, of each VM.</summary>
    public ulong StartSequence { get; init; }

    public EventFilter Filter { get; init; } = EventFilter.All;

    /// <summary>Per-VM starts of an all-VMs watch (VM id to start), overriding <see cref="StartSequence"/>.</summary>
    public IReadOnlyDictionary<string, ulong> VmStarts { get; init; } = NoStarts;

    /// <summary>
    /// Per-VM starts of an all-VMs watch naming the incarnation each means (as a listing or an earlier watch gave
    /// them): a VM whose named incarnation is gone is reported ended and the VM that holds its name now, if any, is
    /// delivered from 1. A position without a uid acts as a start_sequences entry.
    /// </summary>
    public IReadOnlyList<VmPosition> Positions { get; init; } = [];

    /// <summary>Progress messages (bookmarks, VMs ended); null: events only.</summary>
    public BookmarkSettings? Bookmarks { get; init; }

    public bool AllVms => string.IsNullOrEmpty(VmId);

    internal void Validate()
    {
        ArgumentNullException.ThrowIfNull(Filter);
        ArgumentNullException.ThrowIfNull(VmStarts);
        ArgumentNullException.ThrowIfNull(Positions);
        ArgumentNullException.ThrowIfNull(VmUid);
        Filter.Validate();
        if (AllVms ? VmUid.Length > 0 : Positions.Count > 0)
        {
            throw AllVms
                ? CoreException.InvalidArgument(ErrorReasons.InvalidVmUid, "vm_uid", "vm_uid names the incarnation of vm; an all-VMs watch names them in positions")
                : CoreException.InvalidArgument(ErrorReasons.InvalidStartSequences, "positions", "positions are for an all-VMs watch; a watch of one VM takes start_sequence and vm_uid");
        }

        VmIds.ValidateUid(VmUid, "vm_uid");
        if (Positions.Count > 0 && VmStarts.Count > 0)
        {
            throw CoreException.InvalidArgument(ErrorReasons.InvalidStartSequences, "positions", "give per-VM starts either as positions or as start_sequences, not both");
        }

        // A name may repeat (an admin's watch covers every owner's VM of a name) when each names its incarnation.
        var named = new Dictionary<string, bool>(StringComparer.Ordinal);
        var incarnations = new HashSet<string>(StringComparer.Ordinal);
        foreach (var position in Positions)
        {
            VmIds.ValidateUid(position.VmUid, "positions");
            var withUid = position.VmUid.Length > 0;
            if ((named.TryGetValue(position.VmId, out var earlierWithUid) && !(earlierWithUid && withUid)) || (withUid && !incarnations.Add(position.VmUid)))
            {
                throw CoreException.InvalidArgument(ErrorReasons.InvalidStartSequences, "positions", $"positions name vm '{position.VmId}' twice");
            }

            named[position.VmId] = withUid;
        }

        if (!AllVms && VmStarts.Count > 0)
        {
            throw CoreException.InvalidArgument(
                ErrorReasons.InvalidStartSequences,
                "start_sequences",
                "per-VM starts are for an all-VMs watch; a watch of one VM takes start_sequence");
        }

        if (Bookmarks is { } bookmarks && (bookmarks.Interval < BookmarkSettings.MinInterval || bookmarks.Interval > BookmarkSettings.MaxInterval))
        {
            throw CoreException.InvalidArgument(
                ErrorReasons.InvalidBookmarkInterval,
                "bookmark_interval",
                $"bookmark_interval must be between {BookmarkSettings.MinInterval.TotalMilliseconds} ms and {BookmarkSettings.MaxInterval.TotalHours} h");
        }
    }
}
