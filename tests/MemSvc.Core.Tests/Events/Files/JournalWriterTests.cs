using MemSvc.Core.Events;
using MemSvc.Core.Events.Files;
using MemSvc.Core.Options;
using Microsoft.Extensions.Logging.Abstractions;

namespace MemSvc.Core.Tests.Events.Files;

/// <summary>
/// The writer thread alone (no watcher, no call that writes first) brings every appended event to the file, from
/// several appending threads at once, and the file is the journal's sequences in order.
/// </summary>
public sealed class JournalWriterTests : IDisposable
{
    private readonly DirectoryInfo _directory = Directory.CreateTempSubdirectory("memsvc-journal-writer-");

    [Fact]
    public async Task Every_event_four_threads_append_reaches_the_file_in_sequence_order_with_no_reader()
    {
        var header = new JournalFileHeader("alice", "vm-a", "6f1c2a4e-3b5d-4c6e-8f70-123456789abc", "instance", DateTimeOffset.UnixEpoch);
        var path = Path.Combine(_directory.FullName, header.VmUid + JournalStore.Extension);
        using var store = new JournalStore(new JournalOptions { Directory = _directory.FullName }, NullLogger.Instance);
        var journal = new EventJournal("vm-a", header.VmUid, 65_536, null, null, null, null);
        journal.AttachFile(JournalFile.Create(path, header, 8 << 20), store);

        await Task.WhenAll(Enumerable.Range(0, 4).Select(t => Task.Run(
            () =>
            {
                for (var i = 0; i < 5_000; i++)
                {
                    journal.Append(new EventPayload.GuestReport(t, 0x10, (uint)i));
                }
            },
            TestContext.Current.CancellationToken)));

        var until = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        var read = JournalFileReader.Read(path);
        while (read.Events.Count < 20_000 && DateTime.UtcNow < until)
        {
            await Task.Delay(10, TestContext.Current.CancellationToken);
            read = JournalFileReader.Read(path);
        }

        Assert.Equal(Enumerable.Range(1, 20_000).Select(s => (ulong)s), read.Events.Select(e => e.Sequence));
        Assert.Equal(Enumerable.Range(0, 4).Select(t => 5_000), read.Events.GroupBy(e => e.Payload.SourceVcpu).OrderBy(g => g.Key).Select(g => g.Count()));
    }

    public void Dispose() => _directory.Delete(recursive: true);
}
