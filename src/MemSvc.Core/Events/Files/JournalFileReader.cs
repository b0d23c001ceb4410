using System.Buffers.Binary;

namespace MemSvc.Core.Events.Files;

/// <summary>
/// Reads a journal file back: its header, then events up to the first record that is torn or fails its checksum
/// (a write cut short by a kill: everything after it is dropped), and whether its process stopped on purpose.
/// Never writes: a file it refuses (another version, not a journal) stays exactly as it was.
/// </summary>
internal static class JournalFileReader
{
    public static JournalFileContents Read(string path) => Parse(File.ReadAllBytes(path));

    public static JournalFileContents Parse(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length < JournalFileFormat.PreambleSize || !bytes[..8].SequenceEqual(JournalFileFormat.Magic))
        {
            return JournalFileContents.Refused(JournalFileProblem.NotAJournal, 0, "it does not start with a MemSvc journal's magic bytes");
        }

        var version = BinaryPrimitives.ReadUInt32LittleEndian(bytes[8..]);
        if (version != JournalFileFormat.Version)
        {
            return JournalFileContents.Refused(
                JournalFileProblem.UnknownVersion, version, $"its format version is {version}; this MemSvc reads version {JournalFileFormat.Version} only");
        }

        var rest = bytes[JournalFileFormat.PreambleSize..];
        if (!TryTake(ref rest, out var headerBody) || headerBody[0] != JournalFileFormat.HeaderRecord)
        {
            return JournalFileContents.Refused(JournalFileProblem.NoHeader, version, "its header record is missing or torn");
        }

        JournalFileHeader header;
        try
        {
            header = JournalFileFormat.ReadHeader(headerBody);
        }
        catch (FormatException e)
        {
            return JournalFileContents.Refused(JournalFileProblem.NoHeader, version, e.Message);
        }

        var events = new List<VmEvent>();
        DateTimeOffset? stopped = null;
        var validLength = bytes.Length - rest.Length;
        string? dropped = null;
        while (!rest.IsEmpty)
        {
            if (!TryTake(ref rest, out var body))
            {
                dropped = "a torn or corrupt record";
                break;
            }

            try
            {
                if (body[0] == JournalFileFormat.EventRecord)
                {
                    var evt = EventCodec.Read(body, header.VmId, header.VmUid);
                    if (events.Count > 0 && evt.Sequence != events[^1].Sequence + 1)
                    {
                        dropped = $"sequence {evt.Sequence} after {events[^1].Sequence}";
                        break;
                    }

                    events.Add(evt);
                }
                else if (body[0] == JournalFileFormat.StoppedRecord)
                {
                    stopped = JournalFileFormat.ReadStopped(body);
                }
                else
                {
                    dropped = $"a record of unknown type {body[0]}";
                    break;
                }
            }
            catch (FormatException e)
            {
                dropped = e.Message;
                break;
            }

            validLength = bytes.Length - rest.Length;
        }

        return new JournalFileContents(header, events, stopped, validLength, bytes.Length - validLength, dropped, JournalFileProblem.None, version, null);
    }

    // The next record's body, when it is whole and its checksum matches.
    private static bool TryTake(ref ReadOnlySpan<byte> rest, out ReadOnlySpan<byte> body)
    {
        body = default;
        if (rest.Length < JournalFileFormat.RecordOverhead)
        {
            return false;
        }

        var length = BinaryPrimitives.ReadUInt32LittleEndian(rest);
        var crc = BinaryPrimitives.ReadUInt32LittleEndian(rest[4..]);
        if (length == 0 || length > JournalFileFormat.MaxRecordBody || length > rest.Length - JournalFileFormat.RecordOverhead)
        {
            return false;
        }

        var candidate = rest.Slice(JournalFileFormat.RecordOverhead, (int)length);
        if (JournalFileFormat.Crc32C(candidate) != crc)
        {
            return false;
        }

        body = candidate;
        rest = rest[(JournalFileFormat.RecordOverhead + (int)length)..];
        return true;
    }
}

/// <summary>Why a journal file was refused.</summary>
internal enum JournalFileProblem
{
    None = 0,
    NotAJournal = 1,
    UnknownVersion = 2,
    NoHeader = 3,
}

/// <summary>
/// What a journal file holds: the events of its readable prefix, in order; <paramref name="ValidLength"/> bytes of
/// it read, <paramref name="DroppedBytes"/> after them dropped (and why, in <paramref name="DroppedReason"/>).
/// </summary>
internal sealed record JournalFileContents(
    JournalFileHeader? Header,
    IReadOnlyList<VmEvent> Events,
    DateTimeOffset? Stopped,
    long ValidLength,
    long DroppedBytes,
    string? DroppedReason,
    JournalFileProblem Problem,
    uint Version,
    string? RefusedBecause)
{
    public static JournalFileContents Refused(JournalFileProblem problem, uint version, string because) =>
        new(null, [], null, 0, 0, null, problem, version, because);

    public bool IsLost => Events.Count > 0 && Events[^1].Kind == EventKind.VmLost;
}
