using System.Runtime.CompilerServices;
using MemSvc.Contracts.V1;
using MemSvc.Core.Events;

namespace MemSvc.Server.Mapping;

/// <summary>
/// The wire message of each recent journal event, mapped once and shared by every watch that sends it: with N
/// watchers an event used to be mapped N times (about 230 B and a few hundred ns each), which is the per-message
/// CPU a many-watcher stream runs out of. Serializing reads a message and never changes it, so concurrent streams
/// may write the same instance.
/// </summary>
/// <remarks>
/// A fixed, direct-mapped table rather than a slot on each journal entry: a full journal holds tens of thousands of
/// events per VM, and keeping a mapped message beside each would more than double its memory, while live watchers
/// all read near the head. An entry is a hit only when it holds the very same <see cref="VmEvent"/> instance, so a
/// collision, a reused VM name or a race between two watchers costs one extra mapping, never a wrong message.
/// </remarks>
internal sealed class SharedEventMessages
{
    // Process-wide, so a bound on memory: at most this many messages of ~200 B are kept alive.
    private const int Slots = 4096;

    private readonly Entry?[] _entries = new Entry?[Slots];

    public WatchEventsResponse For(VmEvent evt)
    {
        // The journal hands every event of a VM the same VmId instance; its identity hash spreads VMs over the table
        // and consecutive sequences of one VM never collide with each other within the window.
        var slot = (int)((evt.Sequence + (ulong)(uint)RuntimeHelpers.GetHashCode(evt.VmId)) % Slots);
        var entry = Volatile.Read(ref _entries[slot]);
        if (entry is not null && ReferenceEquals(entry.Event, evt))
        {
            return entry.Message;
        }

        var message = new WatchEventsResponse { Event = EventMapping.ToProto(evt) };
        Volatile.Write(ref _entries[slot], new Entry(evt, message));
        return message;
    }

    private sealed record Entry(VmEvent Event, WatchEventsResponse Message);
}
