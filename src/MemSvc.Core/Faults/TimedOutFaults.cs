namespace MemSvc.Core.Faults;

/// <summary>
/// The faults of one VM whose deadline passed and whose fallback MemSvc applied, with what it applied, so that a
/// ResolveFault that comes too late is told FAULT_TIMED_OUT rather than a bare "already resolved". Bounded: the
/// most recent <see cref="Capacity"/> are kept (allocated at the first timeout; a VM whose faults are always
/// answered in time holds nothing), and an older one answers FAULT_ALREADY_RESOLVED, which is still "over".
/// Callers hold the coordinator's list lock.
/// </summary>
internal sealed class TimedOutFaults
{
    public const int Capacity = 4096;

    private Dictionary<ulong, FaultAction>? _applied;
    private Queue<ulong>? _order;

    public void Add(ulong faultId, FaultAction applied)
    {
        _applied ??= [];
        _order ??= new Queue<ulong>();
        if (_order.Count == Capacity)
        {
            _applied.Remove(_order.Dequeue());
        }

        _applied[faultId] = applied;
        _order.Enqueue(faultId);
    }

    /// <summary>Every fault held, oldest first, with what was applied (a planned handoff carries them).</summary>
    public List<(ulong FaultId, FaultAction Applied)> InOrder() => _order is null ? [] : [.. _order.Select(id => (id, _applied![id]))];

    /// <summary>The fallback applied to <paramref name="faultId"/>, when it timed out recently enough to be held.</summary>
    public FaultAction? Find(ulong faultId) => _applied is not null && _applied.TryGetValue(faultId, out var action) ? action : null;
}
