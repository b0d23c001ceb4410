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

    /// <summary>
    /// The events held now after sequence <paramref name="after"/>, oldest first, and the next sequence: what a planned
    /// handoff carries of the journal (after the copy made while the VM ran, so that the frozen export does not walk
    /// the whole journal again).
    /// </summary>
    internal (IReadOnlyList<VmEvent> Events, ulong NextSequence) Held(ulong after = 0)
    {
        lock (_lock)
        {
            var first = Math.Max(OldestLocked(), after + 1);
            var events = new List<VmEvent>((int)(_next - Math.Min(first, _next)));
            for (var sequence = first; sequence < _next; sequence++)
            {
                events.Add(_ring[(int)((sequence - 1) % (ulong)_ring.Length)]!);
            }

            return (events, _next);
        }
    }
}
