namespace MemSvc.Core.Events;

public sealed partial class EventJournal
{
    /// <summary>The events held now, oldest first, and the next sequence: what a planned handoff carries of the journal.</summary>
    internal (IReadOnlyList<VmEvent> Events, ulong NextSequence) Held()
    {
        lock (_lock)
        {
            var events = new List<VmEvent>(_held);
            for (var sequence = OldestLocked(); sequence < _next; sequence++)
            {
                events.Add(_ring[(int)((sequence - 1) % (ulong)_ring.Length)]!);
            }

            return (events, _next);
        }
    }
}
