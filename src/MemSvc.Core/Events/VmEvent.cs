namespace MemSvc.Core.Events;

/// <summary>One journal entry: its per-VM <paramref name="Sequence"/> (from 1, no gaps), its VM, when, and what.</summary>
public sealed record VmEvent(ulong Sequence, string VmId, DateTimeOffset Time, EventPayload Payload)
{
    public EventKind Kind => Payload.Kind;
}
