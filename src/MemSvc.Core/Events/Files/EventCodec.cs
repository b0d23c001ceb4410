using MemSvc.Core.Faults;
using MemSvc.Core.Vcpus;

namespace MemSvc.Core.Events.Files;

/// <summary>
/// An event's record body: sequence, time (UTC ticks), kind, then the payload's fields in declaration order. The VM
/// and its uid are the file's header, not repeated per event. A kind this version does not know is a format error.
/// </summary>
internal static class EventCodec
{
    public static void Append(List<byte> output, VmEvent evt)
    {
        var start = JournalFileFormat.BeginRecord(output, JournalFileFormat.EventRecord);
        JournalFileFormat.PutLong(output, (long)evt.Sequence);
        JournalFileFormat.PutLong(output, evt.Time.UtcTicks);
        output.Add((byte)evt.Kind);
        switch (evt.Payload)
        {
            case EventPayload.MemoryFault f:
                Int(output, f.Vcpu);
                ULong(output, f.Gpa);
                ULong(output, f.Size);
                Bool(output, f.Private);
                ULong(output, f.Flags);
                ULong(output, f.FaultId);
                Time(output, f.Deadline);
                break;
            case EventPayload.ConversionRequested r:
                Int(output, r.Vcpu);
                ULong(output, r.Gpa);
                ULong(output, r.Size);
                Bool(output, r.ToPrivate);
                ULong(output, r.FaultId);
                Time(output, r.Deadline);
                break;
            case EventPayload.ConversionApplied a:
                ULong(output, a.Gpa);
                ULong(output, a.Size);
                Bool(output, a.ToPrivate);
                Int(output, (int)a.Initiator);
                JournalFileFormat.PutLong(output, a.DurationNanoseconds);
                ULong(output, a.FaultId);
                Int(output, a.Vcpu ?? -1);
                break;
            case EventPayload.FaultResolved r:
                ULong(output, r.FaultId);
                Int(output, (int)r.Action);
                Bool(output, r.ByFallback);
                JournalFileFormat.PutLong(output, r.LatencyNanoseconds);
                Int(output, r.Vcpu);
                break;
            case EventPayload.VcpuStateChanged s:
                Int(output, s.Vcpu);
                Int(output, (int)s.State);
                JournalFileFormat.PutString(output, s.Reason);
                break;
            case EventPayload.GuestReport g:
                Int(output, g.Vcpu);
                Int(output, g.Port);
                Int(output, (int)g.Value);
                break;
            case EventPayload.VmLost l:
                JournalFileFormat.PutString(output, l.InstanceId);
                JournalFileFormat.PutString(output, l.Reason);
                break;
            default:
                throw new ArgumentException($"no record layout for {evt.Payload.GetType().Name}", nameof(evt));
        }

        JournalFileFormat.EndRecord(output, start);
    }

    /// <summary>The event of a record body (its type byte first), for the VM <paramref name="vmId"/> of <paramref name="vmUid"/>.</summary>
    public static VmEvent Read(ReadOnlySpan<byte> body, string vmId, string vmUid)
    {
        var reader = new BodyReader(body[1..]);
        var sequence = reader.ULong();
        var time = new DateTimeOffset(reader.Long(), TimeSpan.Zero);
        var kind = (EventKind)reader.Byte();
        EventPayload payload = kind switch
        {
            EventKind.MemoryFault => new EventPayload.MemoryFault(reader.Int(), reader.ULong(), reader.ULong(), reader.Bool(), reader.ULong(), reader.ULong(), ReadTime(ref reader)),
            EventKind.ConversionRequested => new EventPayload.ConversionRequested(reader.Int(), reader.ULong(), reader.ULong(), reader.Bool(), reader.ULong(), ReadTime(ref reader)),
            EventKind.ConversionApplied => new EventPayload.ConversionApplied(
                reader.ULong(), reader.ULong(), reader.Bool(), (ConversionInitiator)reader.Int(), reader.Long(), reader.ULong(), reader.Int() is var v and >= 0 ? v : null),
            EventKind.FaultResolved => new EventPayload.FaultResolved(reader.ULong(), (FaultAction)reader.Int(), reader.Bool(), reader.Long(), reader.Int()),
            EventKind.VcpuStateChanged => new EventPayload.VcpuStateChanged(reader.Int(), (VcpuState)reader.Int(), reader.String()),
            EventKind.GuestReport => new EventPayload.GuestReport(reader.Int(), (ushort)reader.Int(), (uint)reader.Int()),
            EventKind.VmLost => new EventPayload.VmLost(reader.String(), reader.String()),
            _ => throw new FormatException($"a journal record holds event kind {(int)kind}, which this version does not know"),
        };
        reader.End();
        return new VmEvent(sequence, vmId, vmUid, time, payload);
    }

    private static void Int(List<byte> output, int value) => JournalFileFormat.PutInt(output, value);

    private static void ULong(List<byte> output, ulong value) => JournalFileFormat.PutLong(output, (long)value);

    private static void Bool(List<byte> output, bool value) => output.Add(value ? (byte)1 : (byte)0);

    // A deadline: 0 for none, else its UTC ticks (never 0 for a real time).
    private static void Time(List<byte> output, DateTimeOffset? time) => JournalFileFormat.PutLong(output, time?.UtcTicks ?? 0);

    private static DateTimeOffset? ReadTime(ref BodyReader reader) => reader.Long() is var ticks and not 0 ? new DateTimeOffset(ticks, TimeSpan.Zero) : null;
}
