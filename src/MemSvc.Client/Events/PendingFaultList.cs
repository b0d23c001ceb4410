using MemSvc.Contracts.V1;

namespace MemSvc.Client.Events;

/// <summary>
/// What ListPendingFaults returned over all its pages: the faults vCPUs wait on and, for every VM listed, the
/// position a watch continues from. Pass it to <see cref="WatchOptions.Positions"/> to watch on from the listing
/// with no gap and no repeat (list, then watch).
/// </summary>
/// <param name="Faults">The pending faults, by VM, then sequence.</param>
/// <param name="Positions">One per VM listed, pending faults or not.</param>
public sealed record PendingFaultList(IReadOnlyList<PendingFault> Faults, IReadOnlyList<VmEventPosition> Positions);
