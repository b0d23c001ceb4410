using MemSvc.Core.Errors;
using MemSvc.Core.Events;
using MemSvc.Core.Tests.Support;

namespace MemSvc.Core.Tests.Events;

/// <summary>
/// Progress messages: a filtered watch is told its position when the events it skips moved it by a quarter of
/// the window (at once) or at all within an interval (when the timer says), so that its client's resume point
/// keeps up with compaction. The timer here fires only when the test fires it.
/// </summary>
public class BookmarkTests
{
    private static readonly EventFilter FaultsOnly = new(new HashSet<EventKind> { EventKind.MemoryFault }, new HashSet<int>());
    private static readonly BookmarkSettings Hourly = new(TimeSpan.FromHours(1));

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_waiting_watch_gets_a_bookmark_once_skipped_events_reach_a_quarter_of_the_window_and_not_before()
    {
        var journal = new EventJournal("vm-a", 16);
        Assert.Equal(4UL, journal.BookmarkThreshold);
        await using var watch = journal.WatchItems(0, FaultsOnly, Hourly, Ct).GetAsyncEnumerator(Ct);
        var first = watch.MoveNextAsync();

        for (var i = 0; i < 3; i++)
        {
            journal.Append(EventJournalTests.Report(i));
        }

        Assert.False(first.IsCompleted);
        journal.Append(EventJournalTests.Report(3));
        Assert.True(await first);
        Assert.Equal(new WatchItem(null, new WatchNotice.Bookmark("vm-a", "", 5)), watch.Current);

        journal.Append(EventJournalTests.Report(4));
        journal.Append(new EventPayload.MemoryFault(0, 0x1000, 4096, true, 8, 1));
        Assert.True(await watch.MoveNextAsync());
        Assert.Equal(6UL, watch.Current.Event!.Sequence);
    }

    [Fact]
    public async Task A_watch_reading_a_backlog_of_skipped_events_gets_a_bookmark_after_the_batch()
    {
        var journal = new EventJournal("vm-a", 64);
        for (var i = 0; i < 40; i++)
        {
            journal.Append(EventJournalTests.Report(i));
        }

        await using var watch = journal.WatchItems(1, FaultsOnly, Hourly, Ct).GetAsyncEnumerator(Ct);

        Assert.True(await watch.MoveNextAsync());
        Assert.Equal(new WatchItem(null, new WatchNotice.Bookmark("vm-a", "", 41)), watch.Current);
    }

    [Fact]
    public async Task After_the_interval_a_waiting_watch_whose_position_moved_is_told_and_one_that_did_not_move_is_not()
    {
        var timers = new ManualTimers();
        var journal = new EventJournal("vm-a", 1024, timers);
        await using var watch = journal.WatchItems(0, FaultsOnly, Hourly, Ct).GetAsyncEnumerator(Ct);
        var first = watch.MoveNextAsync();
        Assert.Equal(1, timers.Created);

        timers.FireAll();
        Assert.False(first.IsCompleted);
        journal.Append(EventJournalTests.Report(0));
        journal.Append(EventJournalTests.Report(1));
        Assert.False(first.IsCompleted);
        timers.FireAll();

        Assert.True(await first);
        Assert.Equal(new WatchItem(null, new WatchNotice.Bookmark("vm-a", "", 3)), watch.Current);
        var second = watch.MoveNextAsync();
        timers.FireAll();
        Assert.False(second.IsCompleted);
        journal.Append(new EventPayload.MemoryFault(0, 0x1000, 4096, true, 8, 1));
        Assert.True(await second);
        Assert.Equal(3UL, watch.Current.Event!.Sequence);
    }

    [Fact]
    public async Task A_client_that_keeps_the_last_bookmark_resumes_after_compaction_where_one_that_kept_the_last_event_cannot()
    {
        var journal = new EventJournal("vm-a", 16);
        ulong position = 1;
        await using (var watch = journal.WatchItems(1, FaultsOnly, Hourly, Ct).GetAsyncEnumerator(Ct))
        {
            // Twenty-five rounds of four skipped events: more than six times the window, none of them wanted.
            for (var round = 0; round < 25; round++)
            {
                var next = watch.MoveNextAsync();
                for (var i = 0; i < 4; i++)
                {
                    journal.Append(EventJournalTests.Report(i));
                }

                Assert.True(await next);
                position = Assert.IsType<WatchNotice.Bookmark>(watch.Current.Notice).NextSequence;
            }
        }

        Assert.Equal(101UL, position);
        journal.Append(new EventPayload.MemoryFault(0, 0x1000, 4096, true, 8, 1));
        await using var resumed = journal.Watch(position, FaultsOnly, Ct).GetAsyncEnumerator(Ct);
        Assert.True(await resumed.MoveNextAsync());
        Assert.Equal(101UL, resumed.Current.Sequence);
        var compacted = Assert.Throws<CoreException>(() => journal.Watch(1, FaultsOnly, Ct));
        Assert.Equal(ErrorReasons.SequenceCompacted, compacted.Reason);
    }

    [Fact]
    public async Task Without_progress_messages_a_watch_sends_events_only_and_makes_no_timer()
    {
        var timers = new ManualTimers();
        var journal = new EventJournal("vm-a", 16, timers);
        for (var i = 0; i < 40; i++)
        {
            journal.Append(EventJournalTests.Report(i));
        }

        journal.Append(new EventPayload.MemoryFault(0, 0x1000, 4096, true, 8, 1));
        await using var watch = journal.WatchItems(30, FaultsOnly, null, Ct).GetAsyncEnumerator(Ct);

        Assert.True(await watch.MoveNextAsync());
        Assert.Equal(41UL, watch.Current.Event!.Sequence);
        Assert.Equal(0, timers.Created);
    }
}
