namespace MemSvc.Core.Handoff;

/// <summary>
/// What a takeover adopted: the handoff version the state came in, the VMs, the faults still pending among them, and
/// when the first of their running vCPUs stopped in the old process (null from a release of version 2), from which
/// the new process tells how long they were paused once it runs them.
/// </summary>
public sealed record HandoffAdoption(int Version, int Vms, int PendingFaults, DateTimeOffset? FrozenAt);
