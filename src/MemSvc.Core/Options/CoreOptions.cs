namespace MemSvc.Core.Options;

/// <summary>How the VMM behaves: limits, journal size, defaults for fault handling. Passed in by the host.</summary>
public sealed record CoreOptions
{
    public QuotaOptions Quotas { get; init; } = new();

    /// <summary>The host-wide guest memory cap; without a source (the default here), there is none.</summary>
    public HostMemoryOptions HostMemory { get; init; } = new();

    /// <summary>Events each VM's journal retains; older ones are compacted (a watch from before them fails).</summary>
    public int JournalCapacity { get; init; } = 65_536;

    /// <summary>
    /// Events each journal may hold even when its owner's MaxJournalEventsPerOwner is used up, so that a new VM's
    /// recent events stay watchable. At 64 VMs an owner, the budget may be passed by at most 64 × this.
    /// </summary>
    public int JournalRetentionFloor { get; init; } = 1024;

    /// <summary>Journal files: off unless a directory is given.</summary>
    public JournalOptions Journal { get; init; } = new();

    /// <summary>
    /// This manager takes over the VMs of a running process (a planned handoff): the journal directory is that
    /// process's until it exits, so its lock is taken and its files of lost VMs are read only by
    /// <see cref="Vms.VmManager.CompleteTakeover"/>, after <see cref="Vms.VmManager.AdoptHandoff"/>.
    /// </summary>
    public bool TakingOver { get; init; }

    /// <summary>Resolution timeout of a VM created without one.</summary>
    public TimeSpan DefaultResolutionTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Longest resolution timeout a VM may ask for.</summary>
    public TimeSpan MaxResolutionTimeout { get; init; } = TimeSpan.FromHours(1);

    /// <summary>Most bytes one ReadGuestMemory or WriteGuestMemory call moves.</summary>
    public int MaxTransferBytes { get; init; } = 4 << 20;

    /// <summary>How long stopping a VM waits for each vCPU thread to leave KVM_RUN before giving up on it.</summary>
    public TimeSpan VcpuStopTimeout { get; init; } = TimeSpan.FromSeconds(5);

    public int DefaultPageSize { get; init; } = 50;

    public int MaxPageSize { get; init; } = 1000;

    /// <summary>Clock for event times; tests may pass their own.</summary>
    public TimeProvider TimeProvider { get; init; } = TimeProvider.System;
}
