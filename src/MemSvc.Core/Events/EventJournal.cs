using MemSvc.Core.Errors;
using MemSvc.Core.Events.Files;
using MemSvc.Core.Logging;
using MemSvc.Core.Telemetry;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace MemSvc.Core.Events;

/// <summary>
/// One VM's events: append-only, numbered from 1 without gaps, held in a ring of fixed capacity. Watchers read
/// the ring at their own pace; the appender (often a vCPU thread) never waits for them and memory never grows
/// past the ring: a watcher the ring laps is told it fell behind, and a start before the ring is refused
/// (etcd's compaction rule). The ring holds at most the retention, and less once the owner's journals together
/// reach its budget (<see cref="JournalBudget"/>): it then compacts earlier instead of growing.
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
    private readonly JournalBudget? _budget;
    private ulong _next = 1;

    // Events held: sequences _next - _held .. _next - 1. At most the capacity and the ring's length.
    private int _held;
    private bool _completed;
    private VmEndReason _endReason = VmEndReason.Deleted;
    private bool _budgetReleased;

    // The watchers waiting for an event: an append wakes only those whose filter it matches, so a watcher is not
    // woken (a thread-pool dispatch each) for events it would drop, such as the conversion and resolution events of
    // a fault it only wants the MEMORY_FAULT of.
    private readonly JournalWaitList _waiting = new();

    public EventJournal(string vmId, int capacity, TimeProvider? time = null)
        : this(vmId, string.Empty, capacity, time, null)
    {
    }

    internal EventJournal(string vmId, string vmUid, int capacity, TimeProvider? time, CoreMetrics? metrics, ILogger? logger = null, JournalBudget? budget = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        _vmId = vmId;
        _vmUid = vmUid;
        _capacity = capacity;
        _ring = new VmEvent?[Math.Min(capacity, InitialRingSize)];
        _time = time ?? TimeProvider.System;
        _metrics = metrics;
        _logger = logger ?? NullLogger.Instance;
        _budget = budget;
    }

    public string VmId => _vmId;

    /// <summary>The VM's incarnation: every event and notice of this journal carries it.</summary>
    public string VmUid => _vmUid;

    /// <summary>The retention window, in events: the most the journal holds (its owner's budget may hold it to fewer).</summary>
    public int Capacity => _capacity;

    /// <summary>Events held now: the window, as far as it has grown.</summary>
    public int HeldCount
    {
        get
        {
            lock (_lock)
            {
                return _held;
            }
        }
    }

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
        JournalStore? dirtied;
        lock (_lock)
        {
            if (_completed)
            {
                return null;
            }

            evt = new VmEvent(_next, _vmId, _vmUid, _time.GetUtcNow(), payload);
            AppendLocked(evt);
            dirtied = MarkDirtyLocked();
            if (!_waiting.IsEmpty)
            {
                woken = _waiting.TakeFor(evt, _next);
            }
        }

        JournalWaitList.Wake(woken);
        dirtied?.MarkDirty(this);

        _metrics?.EventAppended(_vmId, _vmUid, payload.Kind);
        return evt;
    }

    private void AppendLocked(VmEvent evt)
    {
        if (_held < _capacity && (_budget is null || _budget.TryGrow(_held)))
        {
            if (_held == _ring.Length)
            {
                Grow();
            }

            _held++;
        }
        else if (_held > 0)
        {
            // Compact the oldest event: its slot is freed now, not when the ring comes round to it.
            _ring[(int)((_next - (ulong)_held - 1) % (ulong)_ring.Length)] = null;
        }

        _ring[(int)((_next - 1) % (ulong)_ring.Length)] = evt;
        _next++;
    }

    /// <summary>
    /// No more events: watches deliver what is held after their position, then end. The events stop counting
    /// against the owner's budget now; their memory goes with the journal once the last watch of it ends.
    /// </summary>
    public void Complete() => Complete(VmEndReason.Deleted, releaseBudget: true);

    /// <summary>
    /// As <see cref="Complete()"/>, with why the VM ended (what a watch's end notice says); a lost VM's journal,
    /// still readable, keeps counting against the budget until <see cref="ReleaseBudget"/>.
    /// </summary>
    internal void Complete(VmEndReason reason, bool releaseBudget)
    {
        JournalWaiter? woken;
        lock (_lock)
        {
            if (!_completed && releaseBudget)
            {
                _budget?.Release(_held);
                _budgetReleased = true;
            }

            if (!_completed)
            {
                _endReason = reason;
            }

            _completed = true;
            woken = _waiting.TakeAll();
        }

        JournalWaitList.Wake(woken);
    }

    /// <summary>A completed journal that kept its budget (a lost VM's) gives it back: it is being dropped.</summary>
    internal void ReleaseBudget()
    {
        lock (_lock)
        {
            // Watches still reading it finish what is held; only the count goes now.
            if (_completed && !_budgetReleased)
            {
                _budget?.Release(_held);
                _budgetReleased = true;
            }
        }
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

    private ulong OldestLocked() => _next - (ulong)_held;

    // Doubles the ring (up to the capacity), placing each held sequence s at (s - 1) % length of the larger ring.
    private void Grow()
    {
        var larger = new VmEvent?[Math.Min(_ring.Length * 2, _capacity)];
        for (var sequence = _next - (ulong)_held; sequence < _next; sequence++)
        {
            larger[(int)((sequence - 1) % (ulong)larger.Length)] = _ring[(int)((sequence - 1) % (ulong)_ring.Length)];
        }

        _ring = larger;
    }
}
