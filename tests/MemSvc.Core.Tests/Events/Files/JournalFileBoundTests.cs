using MemSvc.Core.Events;
using MemSvc.Core.Events.Files;

namespace MemSvc.Core.Tests.Events.Files;

/// <summary>
/// A journal file never passes its bound: an append that would compacts it to its newest events that fit in half
/// the bound, none older than the journal still holds, and it stays one gapless run of sequences.
/// </summary>
public sealed class JournalFileBoundTests : IDisposable
{
    private static readonly DateTimeOffset T0 = new(2026, 12, 5, 7, 0, 0, TimeSpan.Zero);
    private static readonly JournalFileHeader Header = new("alice", "vm-a", "6f1c2a4e-3b5d-4c6e-8f70-123456789abc", "0123456789abcdef0123456789abcdef", T0);

    private readonly DirectoryInfo _directory = Directory.CreateTempSubdirectory("memsvc-journal-bound-");

    [Fact]
    public void Ten_thousand_events_in_a_64_KiB_file_never_pass_it_and_the_newest_are_kept_in_order()
    {
        const long bound = 64 << 10;
        var path = System.IO.Path.Combine(_directory.FullName, "bound.journal");
        var longest = 0L;
        using (var file = JournalFile.Create(path, Header, bound))
        {
            for (ulong first = 1; first <= 10_000; first += 50)
            {
                file.Append([.. Enumerable.Range(0, 50).Select(i => Report(first + (ulong)i))], 1);
                longest = Math.Max(longest, file.Length);
            }
        }

        var read = JournalFileReader.Read(path);
        var sequences = read.Events.Select(e => e.Sequence).ToList();

        // A GUEST_REPORT record is 8 + 1 + 8 + 8 + 1 + 3 × 4 = 38 bytes; the file grows by batches of 50 of them.
        Assert.InRange(longest, bound - (50 * 38), bound);
        Assert.Equal(10_000UL, sequences[^1]);
        Assert.Equal(Enumerable.Range((int)sequences[0], sequences.Count).Select(s => (ulong)s), sequences);
        Assert.InRange(sequences.Count, (int)((bound / 2) - 200) / 38, (int)(bound / 38));
    }

    [Fact]
    public void Compaction_keeps_no_event_older_than_the_journal_holds_and_a_gap_starts_the_file_over()
    {
        var path = System.IO.Path.Combine(_directory.FullName, "held.journal");
        using (var file = JournalFile.Create(path, Header, 64 << 10))
        {
            file.Append([.. Enumerable.Range(1, 1500).Select(i => Report((ulong)i))], 1);

            // 57,000 bytes of events, then 11,400 more pass the bound: half of it would keep 941.., but the journal
            // holds only 1200.. now, so the compaction keeps 1200..1500.
            file.Append([.. Enumerable.Range(1501, 300).Select(i => Report((ulong)i))], 1200);
        }

        var compacted = JournalFileReader.Read(path).Events.Select(e => e.Sequence).ToList();
        using (var file = JournalFile.Reopen(path, JournalFileReader.Read(path), 64 << 10))
        {
            // 1801..2099 were compacted from the journal before they were written: the file starts over at 2100.
            file.Append([Report(2100), Report(2101)], 2100);
        }

        var restarted = JournalFileReader.Read(path).Events.Select(e => e.Sequence).ToList();

        Assert.Equal(Enumerable.Range(1200, 601).Select(s => (ulong)s), compacted);
        Assert.Equal([2100UL, 2101UL], restarted);
    }

    public void Dispose() => _directory.Delete(recursive: true);

    private static VmEvent Report(ulong sequence) => new(sequence, Header.VmId, Header.VmUid, T0, new EventPayload.GuestReport(0, 0x10, (uint)sequence));
}
