using System.Buffers.Binary;
using Microsoft.Win32.SafeHandles;

namespace MemSvc.Core.Events.Files;

/// <summary>
/// One VM's journal file, open for appending, never longer than its bound. Appends are plain writes with no fsync:
/// what they promise is what the kernel's page cache keeps, which survives the daemon being killed (SIGKILL, an OOM
/// kill, a crash) but not the host losing power. An append that would pass the bound first compacts the file: its
/// newest records that fit in half the bound and that the journal still holds are rewritten to a new file, which
/// replaces the old one by rename, so a kill during compaction leaves one whole file or the other. Not thread-safe:
/// its journal serializes every call.
/// </summary>
internal sealed class JournalFile : IDisposable
{
    private readonly byte[] _header;
    private readonly long _maxBytes;
    private readonly List<byte> _buffer = new(4096);
    private SafeFileHandle _handle;
    private long _length;

    // The sequence the next event written must have for the file to stay gapless; 0 before the first event.
    private ulong _next;

    private JournalFile(string path, byte[] header, long maxBytes, SafeFileHandle handle, long length, ulong next)
    {
        Path = path;
        _header = header;
        _maxBytes = maxBytes;
        _handle = handle;
        _length = length;
        _next = next;
    }

    public string Path { get; }

    /// <summary>Bytes in the file now.</summary>
    public long Length => _length;

    /// <summary>A new file for a new VM incarnation (its uid names it, so no other VM's file is ever overwritten).</summary>
    public static JournalFile Create(string path, JournalFileHeader header, long maxBytes)
    {
        var bytes = JournalFileFormat.Header(header);
        var handle = File.OpenHandle(path, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.Read);
        try
        {
            RandomAccess.Write(handle, bytes, 0);
        }
        catch
        {
            handle.Dispose();
            File.Delete(path);
            throw;
        }

        return new JournalFile(path, bytes, maxBytes, handle, bytes.Length, 0);
    }

    /// <summary>An existing file read as <paramref name="contents"/>, its dropped tail cut off so that appends follow its last whole record.</summary>
    public static JournalFile Reopen(string path, JournalFileContents contents, long maxBytes)
    {
        var handle = File.OpenHandle(path, FileMode.Open, FileAccess.ReadWrite, FileShare.Read);
        if (contents.DroppedBytes > 0)
        {
            RandomAccess.SetLength(handle, contents.ValidLength);
        }

        var next = contents.Events.Count > 0 ? contents.Events[^1].Sequence + 1 : 0;
        return new JournalFile(path, JournalFileFormat.Header(contents.Header!), maxBytes, handle, contents.ValidLength, next);
    }

    /// <summary>
    /// Appends <paramref name="events"/> (consecutive sequences). When they do not follow the file's last event (the
    /// journal compacted events before they were written) the file starts over from them; when they would pass the
    /// bound the file is compacted first, keeping no event older than <paramref name="oldestHeld"/>.
    /// </summary>
    public void Append(IReadOnlyList<VmEvent> events, ulong oldestHeld)
    {
        if (events.Count == 0)
        {
            return;
        }

        _buffer.Clear();
        foreach (var evt in events)
        {
            EventCodec.Append(_buffer, evt);
        }

        if (_next != 0 && events[0].Sequence != _next)
        {
            Rewrite([]);
        }

        if (_length + _buffer.Count > _maxBytes)
        {
            Compact(oldestHeld);
        }

        Write();
        _next = events[^1].Sequence + 1;
    }

    /// <summary>The mark that the process stopped on purpose (a restart then says so in the VM's last event).</summary>
    public void MarkStopped(DateTimeOffset time)
    {
        _buffer.Clear();
        JournalFileFormat.AppendStopped(_buffer, time);
        if (_length + _buffer.Count <= _maxBytes)
        {
            Write();
        }
    }

    public void Dispose() => _handle.Dispose();

    /// <summary>Closes and removes the file: its VM was deleted, or its journal expired.</summary>
    public void Delete()
    {
        _handle.Dispose();
        File.Delete(Path);
    }

    private void Write()
    {
        var bytes = System.Runtime.InteropServices.CollectionsMarshal.AsSpan(_buffer);
        RandomAccess.Write(_handle, bytes, _length);
        _length += bytes.Length;
    }

    // Keeps the newest whole event records that fit in half the room the header leaves (less what is about to be
    // appended), none older than oldestHeld: an append then passes half the bound's bytes before the next compaction,
    // so each byte is copied at most about once.
    private void Compact(ulong oldestHeld)
    {
        var room = ((_maxBytes - _header.Length) / 2) - _buffer.Count;
        if (room < 0)
        {
            // The batch alone fills half the bound (a tiny bound): the file starts over with the batch's newest records.
            Rewrite([]);
            TrimBuffer(_maxBytes - _header.Length);
            return;
        }

        var existing = new byte[_length];
        RandomAccess.Read(_handle, existing, 0);
        var offsets = new List<(ulong Sequence, int Offset)>();
        var at = JournalFileFormat.PreambleSize;
        while (at + JournalFileFormat.RecordOverhead < existing.Length)
        {
            var length = (int)BinaryPrimitives.ReadUInt32LittleEndian(existing.AsSpan(at));
            if (existing[at + JournalFileFormat.RecordOverhead] == JournalFileFormat.EventRecord)
            {
                offsets.Add((BinaryPrimitives.ReadUInt64LittleEndian(existing.AsSpan(at + JournalFileFormat.RecordOverhead + 1)), at));
            }

            at += JournalFileFormat.RecordOverhead + length;
        }

        var keep = offsets.FindIndex(o => o.Sequence >= oldestHeld && existing.Length - o.Offset <= room);
        Rewrite(keep < 0 ? [] : existing.AsSpan(offsets[keep].Offset));
    }

    private void TrimBuffer(long room)
    {
        var span = System.Runtime.InteropServices.CollectionsMarshal.AsSpan(_buffer);
        var at = 0;
        while (span.Length - at > room)
        {
            at += JournalFileFormat.RecordOverhead + (int)BinaryPrimitives.ReadUInt32LittleEndian(span[at..]);
        }

        _buffer.RemoveRange(0, at);
    }

    // The header and then kept (whole event records), through a new file renamed over the old one.
    private void Rewrite(ReadOnlySpan<byte> kept)
    {
        var temporary = Path + ".tmp";
        using (var handle = File.OpenHandle(temporary, FileMode.Create, FileAccess.Write))
        {
            RandomAccess.Write(handle, _header, 0);
            RandomAccess.Write(handle, kept, _header.Length);
        }

        File.Move(temporary, Path, overwrite: true);
        _handle.Dispose();
        _handle = File.OpenHandle(Path, FileMode.Open, FileAccess.ReadWrite, FileShare.Read);
        _length = _header.Length + kept.Length;
    }
}
