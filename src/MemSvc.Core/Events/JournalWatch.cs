using System.Runtime.CompilerServices;
using MemSvc.Core.Errors;
using MemSvc.Core.Logging;

namespace MemSvc.Core.Events;

/// <summary>A journal's watches: reading the ring in batches, waiting for appends, and progress messages.</summary>
public sealed partial class EventJournal
{
    // Events a watcher copies out per lock acquisition: bounds both lock hold time and per-watcher memory.
    private const int BatchSize = 64;

    /// <summary>
    /// Every event from <paramref name="startSequence"/> on (0: only events appended after this call) that
    /// <paramref name="filter"/> matches, exactly once and in order, until the journal completes or the watch is
    /// cancelled. The start is checked now, so a compacted start fails here rather than at the first read.
    /// </summary>
    public IAsyncEnumerable<VmEvent> Watch(ulong startSequence, EventFilter? filter = null, CancellationToken cancellationToken = default)
    {
        var first = ResolveStart(startSequence);
        return WatchFrom(first, filter ?? EventFilter.All, cancellationToken);
    }

    /// <summary>
    /// As <see cref="Watch"/>, with progress messages when <paramref name="bookmarks"/> is set: a
    /// <see cref="WatchNotice.Bookmark"/> whenever the watch's position moved past skipped events by
    /// <see cref="BookmarkThreshold"/>, or moved at all within an interval.
    /// </summary>
    public IAsyncEnumerable<WatchItem> WatchItems(ulong startSequence, EventFilter? filter, BookmarkSettings? bookmarks, CancellationToken cancellationToken = default)
    {
        var first = ResolveStart(startSequence);
        return WatchItemsFrom(first, filter ?? EventFilter.All, bookmarks, cancellationToken);
    }

    internal async IAsyncEnumerable<VmEvent> WatchFrom(ulong first, EventFilter filter, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await foreach (var item in WatchItemsFrom(first, filter, null, cancellationToken).ConfigureAwait(false))
        {
            yield return item.Event!;
        }
    }

    internal async IAsyncEnumerable<WatchItem> WatchItemsFrom(
        ulong first, EventFilter filter, BookmarkSettings? bookmarks, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var batch = new VmEvent[BatchSize];
        var threshold = bookmarks is null ? 0 : BookmarkThreshold;
        var waiter = new JournalWaiter(filter) { Next = first, Reported = first, BookmarkEvery = threshold };
        using var cancellation = cancellationToken.Register(() => CancelWait(waiter, cancellationToken));

        // One periodic timer per watch rather than one armed per wait: a wait (one per fault for a fault watcher)
        // then costs nothing more, and a quiet VM's position is reported at most one interval late.
        using var timer = bookmarks is null ? null : _time.CreateTimer(_ => BookmarkDue(waiter), null, bookmarks.Interval, bookmarks.Interval);
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var count = 0;
            long lag;
            ValueTask? wait = null;
            ulong? bookmark = null;
            var ended = false;
            lock (_lock)
            {
                var next = waiter.Next;
                var oldest = OldestLocked();
                if (next < oldest)
                {
                    CoreLog.WatcherFellBehind(_logger, _vmId, next, oldest);
                    throw FellBehind(next, oldest);
                }

                // How far behind the journal this watcher is when it reads: the number a slow consumer grows.
                lag = (long)(_next - next);
                while (count < BatchSize && next + (ulong)count < _next)
                {
                    batch[count] = _ring[(int)((next + (ulong)count - 1) % (ulong)_ring.Length)]!;
                    count++;
                }

                if (count == 0)
                {
                    if (_completed)
                    {
                        ended = true;
                    }
                    else if (threshold > 0 && next > waiter.Reported && (waiter.BookmarkDue || next - waiter.Reported >= threshold))
                    {
                        // Caught up, and the skipped events moved the position far enough, or long enough ago.
                        bookmark = next;
                        waiter.BookmarkDue = false;
                    }
                    else
                    {
                        // Checked under the lock that CancelWait takes: a cancellation either finds this waiter on
                        // the list or is seen here, never neither.
                        cancellationToken.ThrowIfCancellationRequested();
                        wait = waiter.Prepare();
                        _waiting.Add(waiter);
                    }
                }
            }

            if (ended)
            {
                // The VM ended (deleted, or gone with the daemon): its journal completes only then. Say so to a watch that wants progress.
                if (threshold > 0)
                {
                    yield return new WatchNotice.VmEnded(_vmId, _vmUid, waiter.Next, _endReason);
                }

                yield break;
            }

            if (bookmark is { } position)
            {
                waiter.Reported = position;
                yield return new WatchNotice.Bookmark(_vmId, _vmUid, position);
                continue;
            }

            if (wait is { } pending)
            {
                await pending.ConfigureAwait(false);
                continue;
            }

            // A sequence a watcher has seen must be in the file before it sees it: a crash after this point then
            // cannot hand the sequence to the VM_LOST event a restart appends. The write is this watcher's, not the
            // appender's: a vCPU never writes a file.
            if (count > 0 && Volatile.Read(ref _persistence) is not null && batch[count - 1].Sequence >= Volatile.Read(ref _written))
            {
                Persist();
            }

            _metrics?.WatcherLag(_vmId, _vmUid, lag);

            for (var i = 0; i < count; i++)
            {
                var evt = batch[i];
                batch[i] = null!;
                waiter.Next = evt.Sequence + 1;
                if (filter.Matches(evt))
                {
                    // The client knows this position now: an interval starts over before skipped events need a bookmark.
                    waiter.Reported = waiter.Next;
                    waiter.BookmarkDue = false;
                    yield return evt;
                }
            }

            // A watch that reads a long run of events it skips (it is behind, so it never waits) still reports.
            if (threshold > 0 && waiter.Next - waiter.Reported >= threshold)
            {
                waiter.Reported = waiter.Next;
                yield return new WatchNotice.Bookmark(_vmId, _vmUid, waiter.Next);
            }
        }
    }

    private void CancelWait(JournalWaiter waiter, CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            if (!_waiting.Remove(waiter))
            {
                return;
            }
        }

        waiter.Cancel(cancellationToken);
    }

    // The bookmark interval passed: a waiting watch whose position moved is woken to report it; a reading one
    // reports when it next catches up.
    private void BookmarkDue(JournalWaiter waiter)
    {
        lock (_lock)
        {
            waiter.BookmarkDue = true;
            if (!(waiter.IsWaiting && waiter.Next > waiter.Reported && _waiting.Remove(waiter)))
            {
                return;
            }
        }

        waiter.Wake();
    }

    private CoreException FellBehind(ulong next, ulong oldest) =>
        new(
            ErrorKind.OutOfRange,
            ErrorReasons.WatcherFellBehind,
            $"vm '{_vmId}': the watcher fell behind: it needed sequence {next}, the oldest held is {oldest}",
            null,
            new Dictionary<string, string>
            {
                ["next_sequence"] = CoreErrors.Dec(next),
                ["oldest_sequence"] = CoreErrors.Dec(oldest),
                ["vm_id"] = _vmId,
            });
}
