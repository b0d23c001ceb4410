using MemSvc.Core.Errors;
using MemSvc.Core.Events;

namespace MemSvc.Core.Tests.Events;

public class EventJournalTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Sequences_run_from_1_without_gaps()
    {
        var journal = new EventJournal("vm-a", 1024);
        for (var i = 0; i < 100; i++)
        {
            Assert.Equal((ulong)i + 1, journal.Append(Report(i))!.Sequence);
        }

        journal.Complete();
        var seen = await Collect(journal.Watch(1, cancellationToken: Ct));
        Assert.Equal(Range(1, 100), seen.Select(e => e.Sequence));
        Assert.All(seen, e => Assert.Equal("vm-a", e.VmId));
        Assert.Equal(Enumerable.Range(0, 100).Select(i => (uint)i), seen.Select(e => ((EventPayload.GuestReport)e.Payload).Value));
    }

    [Fact]
    public async Task The_window_holds_the_last_capacity_events()
    {
        var journal = new EventJournal("vm-a", 8);
        AppendMany(journal, 20);
        journal.Complete();

        Assert.Equal(13UL, journal.OldestSequence);
        Assert.Equal(21UL, journal.NextSequence);
        Assert.Equal(Range(13, 20), (await Collect(journal.Watch(13, cancellationToken: Ct))).Select(e => e.Sequence));
    }

    [Theory]
    [InlineData(100, 150)]
    [InlineData(1000, 2500)]
    [InlineData(65536, 3000)]
    public async Task The_ring_grows_to_the_window_without_losing_or_reordering_events(int capacity, int appended)
    {
        // The ring starts small and grows as events arrive: every held event must keep its sequence and payload.
        var journal = new EventJournal("vm-a", capacity);
        AppendMany(journal, appended);
        journal.Complete();

        var oldest = (ulong)Math.Max(1, appended - capacity + 1);
        Assert.Equal(oldest, journal.OldestSequence);
        var seen = await Collect(journal.Watch(oldest, cancellationToken: Ct));
        Assert.Equal(Range(oldest, (ulong)appended), seen.Select(e => e.Sequence));
        Assert.All(seen, e => Assert.Equal((uint)(e.Sequence - 1), ((EventPayload.GuestReport)e.Payload).Value));
    }

    [Fact]
    public void A_start_before_the_window_fails_with_SEQUENCE_COMPACTED_and_the_oldest_sequence()
    {
        var journal = new EventJournal("vm-a", 8);
        AppendMany(journal, 20);

        var error = Assert.Throws<CoreException>(() => journal.Watch(12, cancellationToken: Ct));
        Assert.Equal(ErrorKind.OutOfRange, error.Kind);
        Assert.Equal(ErrorReasons.SequenceCompacted, error.Reason);
        Assert.Equal("start_sequence", error.Field);
        Assert.Equal("13", error.Metadata["oldest_sequence"]);
    }

    [Fact]
    public async Task Start_0_delivers_only_events_appended_after_the_call()
    {
        var journal = new EventJournal("vm-a", 64);
        AppendMany(journal, 5);
        var watch = journal.Watch(0, cancellationToken: Ct);
        AppendMany(journal, 3);
        journal.Complete();

        Assert.Equal(Range(6, 8), (await Collect(watch)).Select(e => e.Sequence));
    }

    [Fact]
    public async Task Two_watchers_see_identical_sequences_while_events_are_appended()
    {
        var journal = new EventJournal("vm-a", 4096);
        var first = Collect(journal.Watch(0, cancellationToken: Ct));
        var second = Collect(journal.Watch(0, cancellationToken: Ct));
        var appender = Task.Run(
            () =>
            {
                AppendMany(journal, 3000);
                journal.Complete();
            },
            Ct);

        await appender;
        var a = await first;
        var b = await second;
        Assert.Equal(Range(1, 3000), a.Select(e => e.Sequence));
        Assert.Equal(a, b);
    }

    [Fact]
    public async Task Resuming_from_any_sequence_delivers_each_later_event_exactly_once()
    {
        var journal = new EventJournal("vm-a", 256);
        AppendMany(journal, 200);
        journal.Complete();

        for (ulong start = 1; start <= 201; start++)
        {
            var seen = await Collect(journal.Watch(start, cancellationToken: Ct));
            Assert.Equal(Range(start, 200), seen.Select(e => e.Sequence));
        }
    }

    [Fact]
    public async Task A_thousand_reconnects_during_a_run_lose_and_duplicate_nothing()
    {
        const int Total = 40_000;
        var journal = new EventJournal("vm-a", 65_536);
        var random = new Random(1234);
        var appender = Task.Run(
            () =>
            {
                for (var i = 0; i < Total; i++)
                {
                    journal.Append(Report(i));
                    if (i % 64 == 0)
                    {
                        Thread.Yield();
                    }
                }

                journal.Complete();
            },
            Ct);

        var seen = new List<ulong>();
        ulong last = 0;
        for (var reconnect = 0; reconnect < 1000; reconnect++)
        {
            var take = random.Next(1, 40);
            await foreach (var evt in journal.Watch(last + 1, cancellationToken: Ct))
            {
                seen.Add(evt.Sequence);
                last = evt.Sequence;
                if (--take == 0)
                {
                    break;
                }
            }
        }

        await foreach (var evt in journal.Watch(last + 1, cancellationToken: Ct))
        {
            seen.Add(evt.Sequence);
        }

        await appender;
        Assert.Equal(Range(1, Total), seen);
    }

    [Fact]
    public async Task A_stalled_watcher_does_not_block_the_appender_and_ends_with_WATCHER_FELL_BEHIND()
    {
        var journal = new EventJournal("vm-a", 16);
        journal.Append(Report(0));
        var watch = journal.Watch(1, cancellationToken: Ct).GetAsyncEnumerator(Ct);
        Assert.True(await watch.MoveNextAsync());
        Assert.Equal(1UL, watch.Current.Sequence);

        // The watcher stalls; every append returns at once.
        AppendMany(journal, 100);
        Assert.Equal(102UL, journal.NextSequence);

        var error = await Assert.ThrowsAsync<CoreException>(async () => await watch.MoveNextAsync());
        Assert.Equal(ErrorKind.OutOfRange, error.Kind);
        Assert.Equal(ErrorReasons.WatcherFellBehind, error.Reason);
        Assert.Equal("2", error.Metadata["next_sequence"]);
        Assert.Equal("86", error.Metadata["oldest_sequence"]);
        await watch.DisposeAsync();
    }

    [Fact]
    public void Memory_is_bounded_by_the_ring_events_beyond_it_are_collected()
    {
        var journal = new EventJournal("vm-a", 16);
        var early = AppendWeak(journal, 50);
        AppendMany(journal, 50);

        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();

        Assert.Equal(16, journal.Capacity);
        Assert.All(early, w => Assert.False(w.TryGetTarget(out _)));
    }

    [Fact]
    public async Task Filters_select_kinds_and_vcpus_and_keep_journal_sequences()
    {
        var journal = new EventJournal("vm-a", 64);
        journal.Append(new EventPayload.GuestReport(0, 0x10, 1));
        journal.Append(new EventPayload.GuestReport(1, 0x10, 2));
        journal.Append(new EventPayload.ConversionApplied(0, 4096, true, ConversionInitiator.Api, 5, 0, null));
        journal.Append(new EventPayload.VcpuStateChanged(1, MemSvc.Core.Vcpus.VcpuState.Halted, "done"));
        journal.Complete();

        var vcpu1 = await Collect(journal.Watch(1, new EventFilter(new HashSet<EventKind>(), new HashSet<int> { 1 }), Ct));
        Assert.Equal([2UL, 4UL], vcpu1.Select(e => e.Sequence));
        var reports = await Collect(journal.Watch(1, new EventFilter(new HashSet<EventKind> { EventKind.GuestReport }, new HashSet<int>()), Ct));
        Assert.Equal([1UL, 2UL], reports.Select(e => e.Sequence));
    }

    [Fact]
    public async Task Cancelling_a_waiting_watch_ends_it_with_OperationCanceledException()
    {
        var journal = new EventJournal("vm-a", 16);
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        var watch = Collect(journal.Watch(0, cancellationToken: cts.Token));
        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => watch);
    }

    internal static EventPayload Report(int i) => new EventPayload.GuestReport(0, 0x10, (uint)i);

    internal static async Task<List<VmEvent>> Collect(IAsyncEnumerable<VmEvent> events)
    {
        var list = new List<VmEvent>();
        await foreach (var evt in events)
        {
            list.Add(evt);
        }

        return list;
    }

    private static IEnumerable<ulong> Range(ulong first, ulong last)
    {
        for (var s = first; s <= last; s++)
        {
            yield return s;
        }
    }

    private static void AppendMany(EventJournal journal, int count)
    {
        for (var i = 0; i < count; i++)
        {
            journal.Append(Report(i));
        }
    }

    // Not inlined into the test, so that no local of the test method keeps an event alive.
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private static List<WeakReference<VmEvent>> AppendWeak(EventJournal journal, int count)
    {
        var refs = new List<WeakReference<VmEvent>>();
        for (var i = 0; i < count; i++)
        {
            refs.Add(new WeakReference<VmEvent>(journal.Append(Report(i))!));
        }

        return refs;
    }
}
