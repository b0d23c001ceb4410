using MemSvc.Contracts.V1;

namespace MemSvc.Client.Events;

/// <summary>What a resumable watch streams.</summary>
public sealed record WatchOptions
{
    /// <summary>The VM (id or <c>vms/{vm}</c>); null: every VM the caller may see.</summary>
    public string? Vm { get; init; }

    /// <summary>First sequence to deliver; 0: only events recorded from the moment the watch starts.</summary>
    public ulong StartSequence { get; init; }

    /// <summary>
    /// Where each VM starts, as <see cref="Api.EventApi.ListPendingFaultsAsync"/> (or an earlier watch) left them,
    /// instead of <see cref="StartSequence"/>: the watch continues from a listing with no gap and no repeat. In an
    /// all-VMs watch a VM not named is one created after the listing, and is delivered from sequence 1.
    /// </summary>
    public IReadOnlyList<VmEventPosition>? Positions { get; init; }

    /// <summary>Event kinds to deliver; empty: all.</summary>
    public IReadOnlyList<EventKind> Kinds { get; init; } = [];

    /// <summary>vCPU indexes to deliver events of; empty: all.</summary>
    public IReadOnlyList<uint> Vcpus { get; init; } = [];

    /// <summary>Told of each bookmark: a VM's position moved past events the filter skipped (the watch resumes from it).</summary>
    public Action<VmEventPosition>? OnBookmark { get; init; }

    /// <summary>
    /// Told when a VM incarnation the watch followed ended (deleted, or replaced by another VM of its name): nothing
    /// more of it follows, and events of that name delivered afterwards are another VM's, from sequence 1.
    /// </summary>
    public Action<VmEnded>? OnVmEnded { get; init; }

    /// <summary>Told each time the stream was lost and is about to be opened again (progress for the caller).</summary>
    public Action<WatchReconnect>? OnReconnecting { get; init; }
}

/// <summary>A watch lost its stream and reconnects.</summary>
/// <param name="Failures">Reconnects in a row that have not delivered an event yet, from 1.</param>
/// <param name="ResumeFrom">The sequence the watch asks for next; for an all-VMs watch the lowest of its per-VM positions.</param>
/// <param name="Delay">The wait before reconnecting.</param>
/// <param name="Cause">Why the stream ended; null when the server ended it cleanly.</param>
public sealed record WatchReconnect(int Failures, ulong ResumeFrom, TimeSpan Delay, Exception? Cause);
