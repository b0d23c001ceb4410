using System.Runtime.CompilerServices;
using MemSvc.Core.Errors;
using MemSvc.Core.Logging;
using MemSvc.Core.Telemetry;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace MemSvc.Core.Events;

/// <summary>
/// One VM's events: append-only, numbered from 1 without gaps, held in a ring of fixed capacity. Watchers read
/// the ring at their own pace; the appender (often a vCPU thread) never waits for them and memory never grows
/// past the ring: a watcher the ring laps is told it fell behind, and a start before the ring is refused
/// (etcd's compaction rule).
/// </summary>
public sealed class EventJournal
{
    // Events a watcher copies out per lock acquisition: bounds both lock hold time and per-watcher memory.
    private const int BatchSize = 64;

    // The ring starts this small and doubles up to the retention: an idle VM must not hold a 64 Ki-slot array.
    private const int InitialRingSize = 64;

    private readonly Lock _lock = new();
    private readonly int _capacity;
    private VmEvent?[] _ring;
    private readonly string _vmId;
    private readonly TimeProvider _time;
    private readonly CoreMetrics? _metrics;
    private readonly ILogger _logger;
    private ulong _next = 1;
    private bool _completed;

    // The watchers waiting for an event: an append wakes only those whose filter it matches, so a watcher is not
    // woken (a thread-pool dispatch each) for events it would drop, such as the conversion and resolution events of
    // a fault it only wants the MEMORY_FAULT of.
    private readonly JournalWaitList _waiting = new();

    public EventJournal(string vmId, int capacity, TimeProvider? time = null)
        : this(vmId, capacity, time, null)
    {
    }

    internal EventJournal(string vmId, int capacity, TimeProvider? time, CoreMetrics? metrics, ILogger? logger = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        _vmId = vmId;
        _capacity = capacity;
        _ring = new VmEvent?[Math.Min(capacity, InitialRingSize)];
        _time = time ?? TimeProvider.System;
        _metrics = metrics;
        _logger = logger ?? NullLogger.Instance;
    }

    public string VmId => _vmId;

    /// <summary>The retention window, in events.</summary>
    public int Capacity => _capacity;

    /// <summary>The sequence the next event will get.</summary>
    public ulong NextSequence
    {
        get
        {
            lock (_lock)
            {
                return _next;
            }
        }
    }

    /// <summary>The oldest sequence still held (equals <see cref="NextSequence"/> when nothing is held yet).</summary>
    public ulong OldestSequence
    {
        get
        {
            lock (_lock)
            {
                return OldestLocked();
            }
        }
    }

    public bool IsCompleted
    {
        get
        {
            lock (_lock)
            {
                return _completed;
            }
        }
    }

    /// <summary>Appends <paramref name="payload"/> and returns the event. After <see cref="Complete"/> appends are dropped (null).</summary>
    public VmEvent? Append(EventPayload payload)
    {
        ArgumentNullException.ThrowIfNull(payload);
        VmEvent evt;
        JournalWaiter? woken = null;
        lock (_lock)
        {
            if (_completed)
            {
                return null;
            }

            evt = new VmEvent(_next, _vmId, _time.GetUtcNow(), payload);
            if (_next - 1 == (ulong)_ring.Length && _ring.Length < _capacity)
            {
                // Full before anything was ever dropped: sequences 1.._next-1 sit at their own indexes, so a
                // plain copy keeps (sequence - 1) % length valid in the larger ring.
                var larger = new VmEvent?[Math.Min(_ring.Length * 2, _capacity)];
                Array.Copy(_ring, larger, _ring.Length);
                _ring = larger;
            }

            _ring[(int)((_next - 1) % (ulong)_ring.Length)] = evt;
            _next++;
            if (!_waiting.IsEmpty)
            {
                woken = _waiting.TakeFor(evt, _next);
            }
        }

        JournalWaitList.Wake(woken);
        _metrics?.EventAppended(_vmId, payload.Kind);
        return evt;
    }

    /// <summary>No more events: watches deliver what is held after their position, then end.</summary>
    public void Complete()
    {
        JournalWaiter? woken;
        lock (_lock)
        {
            _completed = true;
            woken = _waiting.TakeAll();
        }

        JournalWaitList.Wake(woken);
    }

    /// <summary>
    /// The first sequence a watch from <paramref name="startSequence"/> delivers (0: the next one appended), or
    /// OUT_OF_RANGE SEQUENCE_COMPACTED naming the oldest sequence still held.
    /// </summary>
    public ulong ResolveStart(ulong startSequence)
    {
        lock (_lock)
        {
            if (startSequence == 0)
            {
                return _next;
            }

            var oldest = OldestLocked();
            if (startSequence < oldest)
            {
                throw new CoreException(
                    ErrorKind.OutOfRange,
                    ErrorReasons.SequenceCompacted,
                    $"vm '{_vmId}': sequence {startSequence} was compacted; the oldest held is {oldest}",
                    "start_sequence",
                    new Dictionary<string, string> { ["oldest_sequence"] = CoreErrors.Dec(oldest), ["vm_id"] = _vmId });
            }

            return startSequence;
        }
    }

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

    internal async IAsyncEnumerable<VmEvent> WatchFrom(ulong first, EventFilter filter, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var batch = new VmEvent[BatchSize];
        var waiter = new JournalWaiter(filter) { Next = first };
        using var cancellation = cancellationToken.Register(() => CancelWait(waiter, cancellationToken));
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var count = 0;
            long lag;
            ValueTask? wait = null;
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
                        yield break;
                    }

                    // Checked under the lock that CancelWait takes: a cancellation either finds this waiter on the
                    // list or is seen here, never neither.
                    cancellationToken.ThrowIfCancellationRequested();
                    wait = waiter.Prepare();
                    _waiting.Add(waiter);
                }
            }

            if (wait is { } pending)
            {
                await pending.ConfigureAwait(false);
                continue;
            }

            _metrics?.WatcherLag(_vmId, lag);

            for (var i = 0; i < count; i++)
            {
                var evt = batch[i];
                batch[i] = null!;
                waiter.Next = evt.Sequence + 1;
                if (filter.Matches(evt))
                {
                    yield return evt;
                }
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

    private ulong OldestLocked() => _next > (ulong)_capacity ? _next - (ulong)_capacity : 1;

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
