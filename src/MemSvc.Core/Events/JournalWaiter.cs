using System.Threading.Tasks.Sources;

namespace MemSvc.Core.Events;

/// <summary>
/// One watch's place in its journal's wait list, reused for every wait of that watch, so waiting allocates nothing.
/// The journal wakes it only for an event its filter matches; an event it does not want moves its position on
/// instead, so a waiting watch is never lapped by events it would have skipped.
/// </summary>
/// <remarks>
/// While it waits, its fields are read and written only under the journal's lock; between waits only its own watch
/// touches them. A waiter is completed only by whoever takes it off the wait list (an append,
/// <see cref="EventJournal.Complete"/>, a cancellation), so it is completed once per wait.
/// </remarks>
internal sealed class JournalWaiter(EventFilter filter) : IValueTaskSource
{
    // Continuations go to the thread pool: the appender is often a vCPU thread holding its own locks, and must not
    // run a watcher's stream writes.
    private ManualResetValueTaskSourceCore<bool> _core = new() { RunContinuationsAsynchronously = true };

    public EventFilter Filter { get; } = filter;

    /// <summary>The next sequence the watch reads: while it waits, the journal moves it past events it skips.</summary>
    public ulong Next { get; set; }

    public bool IsWaiting { get; set; }

    /// <summary>The position the watch last told its client (an event's sequence + 1, or a bookmark).</summary>
    public ulong Reported { get; set; }

    /// <summary>With progress messages: how far <see cref="Next"/> may move past <see cref="Reported"/> before the watch is woken to send a bookmark; 0 without.</summary>
    public ulong BookmarkEvery { get; init; }

    /// <summary>The bookmark interval passed since the last bookmark: report a moved position at the next chance.</summary>
    public bool BookmarkDue { get; set; }

    /// <summary>Links the waiters one append wakes, so that they are woken after the lock without a list.</summary>
    public JournalWaiter? NextWoken { get; set; }

    /// <summary>Under the lock, before joining the wait list.</summary>
    public ValueTask Prepare()
    {
        _core.Reset();
        IsWaiting = true;
        return new ValueTask(this, _core.Version);
    }

    /// <summary>Outside the lock, by the one that took this waiter off the list.</summary>
    public void Wake() => _core.SetResult(true);

    /// <summary>Outside the lock, by the cancellation that took this waiter off the list.</summary>
    public void Cancel(CancellationToken token) => _core.SetException(new OperationCanceledException(token));

    void IValueTaskSource.GetResult(short token) => _core.GetResult(token);

    ValueTaskSourceStatus IValueTaskSource.GetStatus(short token) => _core.GetStatus(token);

    void IValueTaskSource.OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
        _core.OnCompleted(continuation, state, token, flags);
}
