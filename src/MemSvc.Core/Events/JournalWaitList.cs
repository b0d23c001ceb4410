namespace MemSvc.Core.Events;

/// <summary>
/// The watches of one journal that wait for an event. Everything but <see cref="Wake"/> runs under the journal's
/// lock; the waiters taken off the list are linked through <see cref="JournalWaiter.NextWoken"/> and woken after the
/// lock is released, so an append neither allocates nor dispatches continuations while holding it.
/// </summary>
internal sealed class JournalWaitList
{
    private readonly List<JournalWaiter> _waiting = [];

    public bool IsEmpty => _waiting.Count == 0;

    public void Add(JournalWaiter waiter) => _waiting.Add(waiter);

    /// <summary>
    /// After <paramref name="evt"/> was stored: takes the waiters that want it. The others had read everything
    /// before it and want nothing from it, so their position moves to <paramref name="next"/>, the journal's end:
    /// an event a waiting watch would drop neither wakes it (a thread-pool dispatch) nor brings it closer to
    /// being lapped. A watch with progress messages is still taken once its position has moved its bookmark
    /// threshold past what its client knows, to send a bookmark.
    /// </summary>
    public JournalWaiter? TakeFor(VmEvent evt, ulong next)
    {
        JournalWaiter? woken = null;
        for (var i = _waiting.Count - 1; i >= 0; i--)
        {
            var waiter = _waiting[i];
            if (!waiter.Filter.Matches(evt))
            {
                waiter.Next = next;
                if (waiter.BookmarkEvery == 0 || next - waiter.Reported < waiter.BookmarkEvery)
                {
                    continue;
                }
            }

            _waiting[i] = _waiting[^1];
            _waiting.RemoveAt(_waiting.Count - 1);
            woken = Link(waiter, woken);
        }

        return woken;
    }

    /// <summary>The journal completed: every waiter goes, to see that.</summary>
    public JournalWaiter? TakeAll()
    {
        JournalWaiter? woken = null;
        foreach (var waiter in _waiting)
        {
            woken = Link(waiter, woken);
        }

        _waiting.Clear();
        return woken;
    }

    /// <summary>A cancelled watch leaves the list; false when it was not on it (an append or completion took it).</summary>
    public bool Remove(JournalWaiter waiter)
    {
        if (!waiter.IsWaiting)
        {
            return false;
        }

        _waiting.Remove(waiter);
        waiter.IsWaiting = false;
        return true;
    }

    /// <summary>Outside the lock: each woken watch's continuation is dispatched to the thread pool, never run here.</summary>
    public static void Wake(JournalWaiter? woken)
    {
        while (woken is not null)
        {
            // Read before waking: a woken watch may wait again at once and reuse the link.
            var next = woken.NextWoken;
            woken.NextWoken = null;
            woken.Wake();
            woken = next;
        }
    }

    private static JournalWaiter Link(JournalWaiter waiter, JournalWaiter? woken)
    {
        waiter.IsWaiting = false;
        waiter.NextWoken = woken;
        return waiter;
    }
}
