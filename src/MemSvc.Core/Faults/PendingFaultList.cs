using MemSvc.Core.Events;

namespace MemSvc.Core.Faults;

/// <summary>A fault a vCPU waits on (ORCHESTRATOR policy), as ListPendingFaults reports it.</summary>
/// <param name="Event">The MEMORY_FAULT or CONVERSION_REQUESTED event that announced it: VM, sequence, vCPU, gpa, size, access, fault id.</param>
/// <param name="Deadline">When the VM's resolution timeout applies its fallback unless somebody resolves the fault first.</param>
public sealed record PendingFaultInfo(VmEvent Event, DateTimeOffset Deadline);

/// <summary>
/// One page of ListPendingFaults: the pending faults of the page's VMs (by VM id, then sequence) and, for every VM
/// of the page, the position that a watch continuing from this listing starts at. <paramref name="NextPageToken"/>
/// is empty on the last page.
/// </summary>
public sealed record PendingFaultPage(IReadOnlyList<PendingFaultInfo> Faults, IReadOnlyList<VmPosition> Positions, string NextPageToken);
