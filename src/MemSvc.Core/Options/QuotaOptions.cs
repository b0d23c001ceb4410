namespace MemSvc.Core.Options;

/// <summary>
/// Per-owner and per-VM limits. Exceeding one fails with RESOURCE_EXHAUSTED, reason QUOTA_EXCEEDED and metadata
/// naming the quota (the snake_case name of the property), its limit and what the call needed.
/// </summary>
public sealed record QuotaOptions
{
    /// <summary>VMs one owner may have at once.</summary>
    public int MaxVmsPerOwner { get; init; } = 64;

    /// <summary>vCPUs one VM may have (also bounded by the backend's KVM_CAP_MAX_VCPUS).</summary>
    public int MaxVcpusPerVm { get; init; } = 64;

    /// <summary>Guest memory one owner may hold, in bytes: open guest_memfd sizes plus anonymous shared backings.</summary>
    public ulong MaxGuestMemoryBytesPerOwner { get; init; } = 64UL << 30;

    /// <summary>
    /// guest_memfd files one owner may have open at once. Each costs memory of its own (about 2.5 KB in the
    /// simulated backend, a file and an inode in KVM) whatever its size, so the byte quota alone does not bound them.
    /// </summary>
    public int MaxGuestMemfdsPerOwner { get; init; } = 1024;

    /// <summary>Memslots one VM may have (also bounded by the backend's KVM_CAP_NR_MEMSLOTS).</summary>
    public int MaxMemslotsPerVm { get; init; } = 512;

    /// <summary>
    /// Journal events one owner's VMs may hold together (each VM holds at most JournalCapacity). Past it a VM's
    /// journal compacts its oldest event for each new one instead of growing; appends are never refused. At the
    /// probe's ~165 bytes an event, the default is about 43 MB an owner: four full journals, where 64 full
    /// journals took 0.55-0.7 GB.
    /// </summary>
    public int MaxJournalEventsPerOwner { get; init; } = 262_144;

    /// <summary>Event watches one owner may have open at once.</summary>
    public int MaxWatchersPerOwner { get; init; } = 64;

    /// <summary>
    /// Unary calls one owner may have executing at once. Enforced by the server's gRPC layer (Core has no notion
    /// of a call); ResolveFault and streams do not count. 64 is one call for each VM the default MaxVmsPerOwner
    /// allows: Core serializes each VM's memory operations, so more calls than VMs only wait their turn, and this
    /// limit bounds how many of one owner's calls may wait.
    /// </summary>
    public int MaxInFlightRequestsPerOwner { get; init; } = 64;
}
