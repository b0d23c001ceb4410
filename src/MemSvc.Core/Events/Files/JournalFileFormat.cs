using System.Buffers.Binary;
using System.Numerics;
using System.Runtime.InteropServices;
using System.Text;

namespace MemSvc.Core.Events.Files;

/// <summary>
/// The bytes of a journal file, version 1. A file is the 8-byte magic "MSVJRNL\n", the format version (u32 LE),
/// then records. A record is its body's length (u32 LE), the CRC-32C of the body (u32 LE) and the body, whose
/// first byte is its type: the header (once, first: owner, VM id, uid, creating instance, creation time), an event,
/// or the mark a process leaves when it stops on purpose. Records are only ever appended, so a process killed
/// mid-write leaves a readable prefix and at most one torn record at the end, which its length or checksum gives
/// away and the reader drops. A version this binary does not know is refused whole, never guessed at.
/// </summary>
internal static class JournalFileFormat
{
    public const uint Version = 1;

    /// <summary>Magic and version.</summary>
    public const int PreambleSize = 12;

    public const int RecordOverhead = 8;

    /// <summary>No record is this large (a header or an event is tens of bytes): a length past it is a torn or foreign file.</summary>
    public const int MaxRecordBody = 64 << 10;

    public const byte HeaderRecord = 1;
    public const byte EventRecord = 2;
    public const byte StoppedRecord = 3;

    public static ReadOnlySpan<byte> Magic => "MSVJRNL\n"u8;

    public static byte[] Preamble()
    {
        var bytes = new byte[PreambleSize];
        Magic.CopyTo(bytes);
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(8), Version);
        return bytes;
    }

    /// <summary>Starts a record at the end of <paramref name="output"/>: its body follows, then <see cref="EndRecord"/>.</summary>
    public static int BeginRecord(List<byte> output, byte type)
    {
        var start = output.Count;
        for (var i = 0; i < RecordOverhead; i++)
        {
            output.Add(0);
        }

        output.Add(type);
        return start;
    }

    /// <summary>Fills in the length and checksum of the record begun at <paramref name="start"/>.</summary>
    public static void EndRecord(List<byte> output, int start)
    {
        var record = CollectionsMarshal.AsSpan(output)[start..];
        var body = record[RecordOverhead..];
        BinaryPrimitives.WriteUInt32LittleEndian(record, (uint)body.Length);
        BinaryPrimitives.WriteUInt32LittleEndian(record[4..], Crc32C(body));
    }

    public static byte[] Header(JournalFileHeader header)
    {
        var output = new List<byte>(128);
        output.AddRange(Preamble());
        var start = BeginRecord(output, HeaderRecord);
        PutString(output, header.Owner);
        PutString(output, header.VmId);
        PutString(output, header.VmUid);
        PutString(output, header.InstanceId);
        PutLong(output, header.CreateTime.UtcTicks);
        EndRecord(output, start);
        return [.. output];
    }

    public static JournalFileHeader ReadHeader(ReadOnlySpan<byte> body)
    {
        var reader = new BodyReader(body[1..]);
        return new JournalFileHeader(reader.String(), reader.String(), reader.String(), reader.String(), new DateTimeOffset(reader.Long(), TimeSpan.Zero));
    }

    public static void AppendStopped(List<byte> output, DateTimeOffset time)
    {
        var start = BeginRecord(output, StoppedRecord);
        PutLong(output, time.UtcTicks);
        EndRecord(output, start);
    }

    public static DateTimeOffset ReadStopped(ReadOnlySpan<byte> body) => new(new BodyReader(body[1..]).Long(), TimeSpan.Zero);

    /// <summary>CRC-32C (Castagnoli), as ext4 and iSCSI use; the runtime computes it with the CPU's instruction where there is one.</summary>
    public static uint Crc32C(ReadOnlySpan<byte> data)
    {
        var crc = uint.MaxValue;
        while (data.Length >= 8)
        {
            crc = BitOperations.Crc32C(crc, BinaryPrimitives.ReadUInt64LittleEndian(data));
            data = data[8..];
        }

        foreach (var b in data)
        {
            crc = BitOperations.Crc32C(crc, b);
        }

        return ~crc;
    }

    public static void PutString(List<byte> body, string value)
    {
        var bytes = Encoding.UTF8.GetBytes(value);
        PutInt(body, bytes.Length);
        body.AddRange(bytes);
    }

    public static void PutLong(List<byte> body, long value)
    {
        Span<byte> bytes = stackalloc byte[8];
        BinaryPrimitives.WriteInt64LittleEndian(bytes, value);
        body.AddRange(bytes);
    }

    public static void PutInt(List<byte> body, int value)
    {
        Span<byte> bytes = stackalloc byte[4];
        BinaryPrimitives.WriteInt32LittleEndian(bytes, value);
        body.AddRange(bytes);
    }
}

/// <summary>Who a journal file belongs to: the VM's owner, name and incarnation, and the process that created it.</summary>
internal sealed record JournalFileHeader(string Owner, string VmId, string VmUid, string InstanceId, DateTimeOffset CreateTime);
