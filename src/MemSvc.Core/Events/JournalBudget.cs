namespace MemSvc.Core.Events;

/// <summary>
/// The events one owner's journals hold together, against MaxJournalEventsPerOwner. A journal grows only while
/// its owner is under the budget (or it is under the floor every VM keeps); past it, it compacts its own oldest
/// event for each one appended instead. Appending is never refused: a vCPU cannot be told no, and a watcher
/// behind the window gets SEQUENCE_COMPACTED or WATCHER_FELL_BEHIND as with any compaction.
/// </summary>
internal sealed class JournalBudget(long limit, int floor)
{
    private long _held;

    /// <summary>Events every journal may hold whatever the budget, so that a new VM's watchers see its latest events.</summary>
    public int Floor => floor;

    public long Limit => limit;

    /// <summary>Events the owner's journals hold now.</summary>
    public long Held => Interlocked.Read(ref _held);

    /// <summary>
    /// Counts one more held event when a journal holding <paramref name="journalHeld"/> may grow: under the floor
    /// always, else while the owner is under the limit. False: the journal compacts instead.
    /// </summary>
    public bool TryGrow(int journalHeld)
    {
        if (journalHeld < floor)
        {
            Interlocked.Increment(ref _held);
            return true;
        }

        var held = Interlocked.Read(ref _held);
        while (held < limit)
        {
            var seen = Interlocked.CompareExchange(ref _held, held + 1, held);
            if (seen == held)
            {
                return true;
            }

            held = seen;
        }

        return false;
    }

    /// <summary>A journal's events no longer count (its VM was deleted).</summary>
    public void Release(int events) => Interlocked.Add(ref _held, -events);
}
