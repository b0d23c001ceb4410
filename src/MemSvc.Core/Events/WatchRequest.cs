using MemSvc.Core.Errors;

namespace MemSvc.Core.Events;

/// <summary>What a watch covers, where it starts, what it delivers.</summary>
public sealed record WatchRequest
{
    private static readonly IReadOnlyDictionary<string, ulong> NoStarts = new Dictionary<string, ulong>();

    /// <summary>The VM; null or empty: every VM the caller may see, VMs created while watching included.</summary>
    public string? VmId { get; init; }

    /// <summary>First sequence to deliver (0: only events appended from now on); for an all-VMs watch, of each VM.</summary>
    public ulong StartSequence { get; init; }

    public EventFilter Filter { get; init; } = EventFilter.All;

    /// <summary>Per-VM starts of an all-VMs watch (VM id to start), overriding <see cref="StartSequence"/>.</summary>
    public IReadOnlyDictionary<string, ulong> VmStarts { get; init; } = NoStarts;

    /// <summary>Progress messages (bookmarks); null: events only.</summary>
    public BookmarkSettings? Bookmarks { get; init; }

    public bool AllVms => string.IsNullOrEmpty(VmId);

    internal void Validate()
    {
        ArgumentNullException.ThrowIfNull(Filter);
        ArgumentNullException.ThrowIfNull(VmStarts);
        Filter.Validate();
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
