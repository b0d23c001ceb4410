namespace MemSvc.Core.Options;

/// <summary>
/// Where VM journals are kept on disk, so that a VM lost with its daemon process (a crash, a kill, a stop without
/// handoff) still has its journal, ended by a VM_LOST event, after the restart.
/// </summary>
public sealed record JournalOptions
{
    /// <summary>The directory of journal files, one a VM; null or empty: journals live in memory only.</summary>
    public string? Directory { get; init; }

    /// <summary>
    /// The most bytes one VM's file holds (header included): an append that would pass it compacts the file to its
    /// newest events that fit in half of it. At about 64 bytes an event, the default 8 MiB keeps some 65,000 events
    /// (the default retention) just after a compaction and 130,000 before one.
    /// </summary>
    public long MaxFileBytes { get; init; } = 8L << 20;

    /// <summary>How long a lost VM's journal stays watchable (and its file kept) after its VM_LOST event, unless DeleteVm frees it first.</summary>
    public TimeSpan LostRetention { get; init; } = TimeSpan.FromHours(24);

    /// <summary>This process (as GetHostInfo's instance_id): files name the process that wrote them, and VM_LOST events the one that lost them.</summary>
    public string InstanceId { get; init; } = Guid.NewGuid().ToString("N");

    public bool Enabled => !string.IsNullOrEmpty(Directory);
}
