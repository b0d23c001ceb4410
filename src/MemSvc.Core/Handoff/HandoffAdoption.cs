namespace MemSvc.Core.Handoff;

/// <summary>
/// What a takeover adopted: the handoff version the state came in, the VMs, the faults still pending among them, and
/// when the old process began to stop their vCPUs (null from a release of version 2), from which the new process
/// tells how long they were paused once it runs them.
/// </summary>
public sealed record HandoffAdoption(int Version, int Vms, int PendingFaults, DateTimeOffset? FrozenAt);
