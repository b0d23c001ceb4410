namespace MemSvc.Core.Events;


public sealed partial class EventJournal
{
    /// <summary>
    /// Writes every event to the journal's file and returns the file's path (null without one): a planned handoff
    /// passes the path, and the next process appends to the same file.
    /// </summary>
    internal string? PersistForHandoff()
    {
        Persist();
        lock (_fileLock)
        {
            return _persistence?.File.Path;
        }
    }

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
