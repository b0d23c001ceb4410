using MemSvc.Core.Events.Files;
using MemSvc.Core.Logging;

namespace MemSvc.Core.Events;

/// <summary>
/// A journal's file. Appending only marks the journal for the store's writer thread (once, until it has written),
/// so a vCPU never waits on a file; the writer, or a watcher about to deliver events not yet written, writes them.
/// Every sequence anyone has been told (an event, a position, a VM's last sequence) is in the file first, so a
/// restart's VM_LOST event, at the sequence after the file's last, never takes a sequence a client holds.
/// </summary>
public sealed partial class EventJournal
{
    // Events copied out per write: bounds how long the ring's lock is held for the file.
    private const int WriteBatch = 256;

    private readonly Lock _fileLock = new();
    private JournalPersistenceState? _persistence;

    // Every event before this sequence is in the file (or there is no file).
    private ulong _written = 1;

    // Under _lock: the journal is queued for the writer thread and not yet written.
    private bool _dirty;

    /// <summary>Gives the journal its file; events appended from now on are written to it.</summary>
    internal void AttachFile(JournalFile file, JournalStore store)
    {
        lock (_fileLock)
        {
            _persistence = new JournalPersistenceState(file, store);
        }
    }

    /// <summary>
    /// Fills a new journal with <paramref name="events"/> and then <paramref name="then"/> (read back from its file,
    /// or a handoff's copy and the events after it: consecutive sequences), as far as its retention and budget hold
    /// them: it continues at the sequence after the last.
    /// </summary>
    internal void Restore(IReadOnlyList<VmEvent> events, IReadOnlyList<VmEvent>? then = null)
    {
        then ??= [];
        lock (_lock)
        {
            if (events.Count + then.Count == 0 || _next != 1 || _held != 0)
            {
                return;
            }

            // One ring of the size needed, not one doubling after another: a handoff restores every journal while
            // the vCPUs are paused.
            _ring = new VmEvent?[Math.Clamp(events.Count + then.Count, _ring.Length, _capacity)];
            _next = (events.Count > 0 ? events[0] : then[0]).Sequence;
            foreach (var evt in events)
            {
                AppendLocked(evt);
            }

            foreach (var evt in then)
            {
                AppendLocked(evt);
            }

            _written = _next;
        }
    }

    /// <summary>
    /// Writes every event appended before this call that is not in the file yet (and that the ring still holds),
    /// and returns the journal's next sequence as far as it is written. It stops there: under a steady stream of
    /// appends a caller (a watcher about to deliver) must not be kept writing other callers' events forever.
    /// </summary>
    internal ulong Persist()
    {
        var target = NextSequence;

        // Already in the file (the common case for GetVm, a list or a second watcher): no lock, no batch.
        if (Volatile.Read(ref _persistence) is null || Volatile.Read(ref _written) >= target)
        {
            return target;
        }

        JournalStore? requeue = null;
        lock (_fileLock)
        {
            var batch = new List<VmEvent>();
            while (_persistence is { } state)
            {
                batch.Clear();
                ulong oldest;
                lock (_lock)
                {
                    _dirty = false;
                    oldest = OldestLocked();
                    for (var sequence = Math.Max(_written, oldest); sequence < Math.Min(_next, target) && batch.Count < WriteBatch; sequence++)
                    {
                        batch.Add(_ring[(int)((sequence - 1) % (ulong)_ring.Length)]!);
                    }
                }

                if (batch.Count == 0)
                {
                    break;
                }

                try
                {
                    state.File.Append(batch, oldest);
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    DropFileLocked(state, e);
                    break;
                }

                Volatile.Write(ref _written, batch[^1].Sequence + 1);
            }

            // Events appended past the target while the mark was still set queued nothing: queue them now.
            lock (_lock)
            {
                if (_persistence is { } state && !_dirty && Math.Max(_written, OldestLocked()) < _next)
                {
                    _dirty = true;
                    requeue = state.Store;
                }
            }
        }

        requeue?.MarkDirty(this);
        return target;
    }

    /// <summary>
    /// Writes what is left and closes the file, with the mark that the daemon stopped on purpose when
    /// <paramref name="stoppedAt"/> is given (it stops without handing its VMs off).
    /// </summary>
    internal void CloseFile(DateTimeOffset? stoppedAt)
    {
        Persist();
        lock (_fileLock)
        {
            if (_persistence is not { } state)
            {
                return;
            }

            try
            {
                if (stoppedAt is { } time)
                {
                    state.File.MarkStopped(time);
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                CoreLog.JournalFileFailed(_logger, e, _vmId, state.File.Path);
            }

            state.File.Dispose();
            _persistence = null;
        }
    }

    /// <summary>The VM was deleted (or never committed), or its lost journal expired: its file goes.</summary>
    internal void DeleteFile()
    {
        lock (_fileLock)
        {
            if (_persistence is not { } state)
            {
                return;
            }

            try
            {
                state.File.Delete();
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                CoreLog.JournalFileFailed(_logger, e, _vmId, state.File.Path);
            }

            _persistence = null;
        }
    }

    // Under _lock, from Append: whether this append must queue the journal for the writer.
    private JournalStore? MarkDirtyLocked()
    {
        if (_dirty || _persistence is null)
        {
            return null;
        }

        _dirty = true;
        return _persistence.Store;
    }

    // A file that cannot be written is worse than none: after a crash it would name a last sequence older than
    // what watchers saw. It is removed, so a crash then loses this VM as before journals had files, and no
    // sequence is ever reused.
    private void DropFileLocked(JournalPersistenceState state, Exception error)
    {
        CoreLog.JournalFileFailed(_logger, error, _vmId, state.File.Path);
        try
        {
            state.File.Delete();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            CoreLog.JournalFileFailed(_logger, e, _vmId, state.File.Path);
        }

        _persistence = null;
    }

    private sealed record JournalPersistenceState(JournalFile File, JournalStore Store);
}
