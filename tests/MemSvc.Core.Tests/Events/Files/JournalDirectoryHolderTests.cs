using MemSvc.Core.Events.Files;
using MemSvc.Core.Options;
using Microsoft.Extensions.Logging.Abstractions;

namespace MemSvc.Core.Tests.Events.Files;

/// <summary>
/// The journal directory's lock file names the instance holding it, so that a start after a crash names the process
/// that lost the VMs (after a live upgrade, not the one that created their files). A holder that hands off lets go
/// of its name with the lock; a holder that stops keeps it there for the next start to name.
/// </summary>
public sealed class JournalDirectoryHolderTests : IDisposable
{
    private readonly DirectoryInfo _directory = Directory.CreateTempSubdirectory("memsvc-journal-holder-");

    [Fact]
    public void Each_start_reads_who_held_the_directory_before_it_and_a_handoff_lets_go_of_the_name()
    {
        using (var first = Store("first"))
        {
            Assert.Null(first.PreviousHolder);
        }

        using (var second = Store("second"))
        {
            Assert.Equal("first", second.PreviousHolder);
            second.Unlock();
            using var taker = Store("taker");
            Assert.Null(taker.PreviousHolder);
        }

        // The taker stopped (disposed) holding the lock: the next start names it.
        using var next = Store("next");
        Assert.Equal("taker", next.PreviousHolder);
    }

    [Fact]
    public void A_second_store_on_a_held_directory_is_refused_and_changes_nothing()
    {
        using var holder = Store("holder");

        var refused = Assert.Throws<IOException>(() => Store("intruder"));

        Assert.Contains("another MemSvc process uses the journal directory", refused.Message, StringComparison.Ordinal);
        holder.Unlock();
        using var after = Store("after");
        Assert.Null(after.PreviousHolder);
    }

    public void Dispose() => _directory.Delete(recursive: true);

    private JournalStore Store(string instance) => new(new JournalOptions { Directory = _directory.FullName, InstanceId = instance }, NullLogger.Instance);
}
