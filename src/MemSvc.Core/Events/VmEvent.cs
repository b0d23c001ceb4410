namespace MemSvc.Core.Events;

/// <summary>
/// One journal entry: its per-VM <paramref name="Sequence"/> (from 1, no gaps), its VM and that VM's incarnation
/// (<paramref name="VmUid"/>: sequences belong to one incarnation of a name), when, and what.
/// </summary>
public sealed record VmEvent(ulong Sequence, string VmId, string VmUid, DateTimeOffset Time, EventPayload Payload)
{
    public EventKind Kind => Payload.Kind;
}
