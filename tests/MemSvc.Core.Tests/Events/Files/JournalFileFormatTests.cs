using MemSvc.Core.Events;
using MemSvc.Core.Events.Files;
using MemSvc.Core.Faults;
using MemSvc.Core.Vcpus;

namespace MemSvc.Core.Tests.Events.Files;

/// <summary>
/// The journal file's bytes: every event kind reads back as written, a kill mid-write (a torn last record) or a
/// damaged record loses that record and what follows and nothing before, and another version is refused whole.
/// </summary>
public sealed class JournalFileFormatTests : IDisposable
{
    private static readonly DateTimeOffset T0 = new(2026, 12, 5, 7, 0, 0, TimeSpan.Zero);
    private static readonly JournalFileHeader Header = new("alice", "vm-a", "6f1c2a4e-3b5d-4c6e-8f70-123456789abc", "0123456789abcdef0123456789abcdef", T0);

    private readonly DirectoryInfo _directory = Directory.CreateTempSubdirectory("memsvc-journal-format-");

    private string PathOf(string name) => System.IO.Path.Combine(_directory.FullName, name);

    [Fact]
    public void Every_event_kind_reads_back_as_written_with_the_header()
    {
        var events = AllKinds();
        var path = PathOf("a.journal");
        using (var file = JournalFile.Create(path, Header, 1 << 20))
        {
            file.Append(events, 1);
        }

        var read = JournalFileReader.Read(path);

        Assert.Equal(JournalFileProblem.None, read.Problem);
        Assert.Equal(Header, read.Header);
        Assert.Equal(events, read.Events);
        Assert.Equal((0L, (string?)null, (DateTimeOffset?)null), (read.DroppedBytes, read.DroppedReason, read.Stopped));
        Assert.Equal(new FileInfo(path).Length, read.ValidLength);
    }

    [Fact]
    public void A_file_cut_anywhere_inside_its_last_record_reads_as_every_record_before_it()
    {
        var events = AllKinds();
        var path = PathOf("torn.journal");
        using (var file = JournalFile.Create(path, Header, 1 << 20))
        {
            file.Append(events[..^1], 1);
        }

        var beforeLast = new FileInfo(path).Length;
        using (var file = JournalFile.Reopen(path, JournalFileReader.Read(path), 1 << 20))
        {
            file.Append(events[^1..], 1);
        }

        var whole = File.ReadAllBytes(path);
        var outcomes = new List<(int Events, long Dropped)>();
        for (var cut = beforeLast + 1; cut < whole.Length; cut++)
        {
            var read = JournalFileReader.Parse(whole.AsSpan(0, (int)cut));
            Assert.Equal(events[..^1], read.Events);
            outcomes.Add((read.Events.Count, read.DroppedBytes));
        }

        // VM_LOST's record is 8 (frame) + 1 + 8 + 8 + 1 + (4 + 32) + (4 + 6) = 72 bytes: 71 cuts inside it, each dropping what was cut.
        Assert.Equal(71, outcomes.Count);
        Assert.Equal(Enumerable.Range(1, 71).Select(n => (7, (long)n)), outcomes);
    }

    [Fact]
    public void A_record_whose_checksum_fails_ends_the_readable_prefix_there()
    {
        var events = AllKinds();
        var path = PathOf("crc.journal");
        using (var file = JournalFile.Create(path, Header, 1 << 20))
        {
            file.Append(events[..3], 1);
        }

        var thirdAt = new FileInfo(path).Length;
        using (var file = JournalFile.Reopen(path, JournalFileReader.Read(path), 1 << 20))
        {
            file.Append(events[3..], 1);
        }

        // One bit of the fourth record's payload flipped.
        var bytes = File.ReadAllBytes(path);
        bytes[thirdAt + 20] ^= 0x01;
        var read = JournalFileReader.Parse(bytes);

        Assert.Equal([1UL, 2UL, 3UL], read.Events.Select(e => e.Sequence));
        Assert.Equal((thirdAt, bytes.Length - thirdAt, "a torn or corrupt record"), (read.ValidLength, read.DroppedBytes, read.DroppedReason));
    }

    [Fact]
    public void A_file_of_another_version_is_refused_and_not_a_journal_is_told_apart()
    {
        var path = PathOf("v2.journal");
        using (var file = JournalFile.Create(path, Header, 1 << 20))
        {
            file.Append(AllKinds(), 1);
        }

        var bytes = File.ReadAllBytes(path);
        bytes[8] = 2;
        var refused = JournalFileReader.Parse(bytes);
        var foreign = JournalFileReader.Parse("not a journal at all"u8);

        Assert.Equal((JournalFileProblem.UnknownVersion, 2u, "its format version is 2; this MemSvc reads version 1 only"), (refused.Problem, refused.Version, refused.RefusedBecause));
        Assert.Empty(refused.Events);
        Assert.Null(refused.Header);
        Assert.Equal(JournalFileProblem.NotAJournal, foreign.Problem);
    }

    [Fact]
    public void A_stop_mark_is_read_back_with_its_time()
    {
        var path = PathOf("stopped.journal");
        using (var file = JournalFile.Create(path, Header, 1 << 20))
        {
            file.Append(AllKinds()[..2], 1);
            file.MarkStopped(T0.AddMinutes(5));
        }

        var read = JournalFileReader.Read(path);

        Assert.Equal((2, (DateTimeOffset?)T0.AddMinutes(5), 0L), (read.Events.Count, read.Stopped, read.DroppedBytes));
    }

    public void Dispose() => _directory.Delete(recursive: true);

    internal static VmEvent[] AllKinds() =>
    [
        Event(1, new EventPayload.MemoryFault(1, 0x1_0000_0000, 4096, true, 8, 1, T0.AddSeconds(30))),
        Event(2, new EventPayload.ConversionRequested(0, 0x2000, 8192, false, 2)),
        Event(3, new EventPayload.ConversionApplied(0x1_0000_0000, 4096, true, ConversionInitiator.Orchestrator, 12_345, 1, 1)),
        Event(4, new EventPayload.ConversionApplied(0x3000, 4096, false, ConversionInitiator.Api, 99, 0, null)),
        Event(5, new EventPayload.FaultResolved(1, FaultAction.Convert, false, 54_321, 1)),
        Event(6, new EventPayload.VcpuStateChanged(1, VcpuState.Halted, "the guest program ended (hlt) — ü")),
        Event(7, new EventPayload.GuestReport(0, 0x10, 0xdead_beef)),
        Event(8, new EventPayload.VmLost("0123456789abcdef0123456789abcdef", "killed")),
    ];

    private static VmEvent Event(ulong sequence, EventPayload payload) => new(sequence, Header.VmId, Header.VmUid, T0.AddMilliseconds(sequence), payload);
}
