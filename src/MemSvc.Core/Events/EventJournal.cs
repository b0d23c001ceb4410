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
public sealed partial class EventJournal
{
    // The ring starts this small and doubles up to the retention: an idle VM must not hold a 64 Ki-slot array.
    private const int InitialRingSize = 64;

    private readonly Lock _lock = new();
    private readonly int _capacity;
    private VmEvent?[] _ring;
    private readonly string _vmId;
    private readonly string _vmUid;
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
        : this(vmId, string.Empty, capacity, time, null)
    {
    }

    internal EventJournal(string vmId, string vmUid, int capacity, TimeProvider? time, CoreMetrics? metrics, ILogger? logger = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        _vmId = vmId;
        _vmUid = vmUid;
        _capacity = capacity;
        _ring = new VmEvent?[Math.Min(capacity, InitialRingSize)];
        _time = time ?? TimeProvider.System;
        _metrics = metrics;
        _logger = logger ?? NullLogger.Instance;
    }

    public string VmId => _vmId;

    /// <summary>The VM's incarnation: every event and notice of this journal carries it.</summary>
    public string VmUid => _vmUid;

    /// <summary>The retention window, in events.</summary>
    public int Capacity => _capacity;

    /// <summary>
    /// How far a watch asking for progress may move past events it skips before it is sent a bookmark at once: a
    /// quarter of the window, so that a client holding the last bookmark stays well inside it.
    /// </summary>
    public ulong BookmarkThreshold => (ulong)Math.Max(1, _capacity / 4);

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

            evt = new VmEvent(_next, _vmId, _vmUid, _time.GetUtcNow(), payload);
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
        _metrics?.EventAppended(_vmId, _vmUid, payload.Kind);
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
    /// OUT_OF_RANGE SEQUENCE_COMPACTED naming the oldest sequence still held, or OUT_OF_RANGE SEQUENCE_BEYOND_END
    /// for a start past the next sequence: no watcher holds such a position of this journal (it can only come from
    /// an earlier VM of the name), and waiting for the journal to reach it would silently join two VMs.
    /// </summary>
    /// <param name="startSequence">The start asked for.</param>
    /// <param name="field">The request field the start came from, for the error.</param>
    /// <param name="beyondEndWaits">
    /// When the start is known to be this journal's (the watch named the VM's uid, or it is the one start an
    /// all-VMs watch gives every VM): a VM that has not reached it yet is watched from there on.
    /// </param>
    public ulong ResolveStart(ulong startSequence, string field = "start_sequence", bool beyondEndWaits = false)
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
                    field,
                    new Dictionary<string, string> { ["oldest_sequence"] = CoreErrors.Dec(oldest), ["vm_id"] = _vmId, ["vm_uid"] = _vmUid });
            }

            if (startSequence > _next && !beyondEndWaits)
            {
                throw new CoreException(
                    ErrorKind.OutOfRange,
                    ErrorReasons.SequenceBeyondEnd,
                    $"vm '{_vmId}': sequence {startSequence} is past the journal's next sequence {_next}; it is not a position in this VM",
                    field,
                    new Dictionary<string, string> { ["next_sequence"] = CoreErrors.Dec(_next), ["vm_id"] = _vmId, ["vm_uid"] = _vmUid });
            }

            return startSequence;
        }
    }

    private ulong OldestLocked() => _next > (ulong)_capacity ? _next - (ulong)_capacity : 1;
}
