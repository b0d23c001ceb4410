using MemSvc.Core.Events;
using MemSvc.Core.Vcpus;

namespace MemSvc.Core.Tests.Events;

/// <summary>
/// Watches that wait with a filter: an append wakes only the watches that want its event, and the others move past
/// it while they wait. Each still gets every event it wants exactly once, in order.
/// </summary>
public class FilteredWaitTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static readonly EventFilter FaultsOnly = new(new HashSet<EventKind> { EventKind.MemoryFault }, new HashSet<int>());

    [Fact]
    public async Task A_waiting_filtered_watch_is_not_lapped_by_events_it_skips()
    {
        var journal = new EventJournal("vm-a", 16);
        await using var watch = journal.Watch(0, FaultsOnly, Ct).GetAsyncEnumerator(Ct);
        var first = watch.MoveNextAsync();

        // Ten times the ring of events the watch does not want, then one it does: it waited caught up throughout.
        for (var i = 0; i < 160; i++)
        {
            journal.Append(EventJournalTests.Report(i));
        }

        journal.Append(Fault(0, 7));
        Assert.True(await first);
        Assert.Equal(161UL, watch.Current.Sequence);
    }

    [Fact]
    public async Task Watches_with_different_filters_each_get_exactly_their_events_in_order_while_vcpus_append()
    {
        const int PerVcpu = 3000;
        var journal = new EventJournal("vm-a", 1 << 16);
        var everything = EventJournalTests.Collect(journal.Watch(0, cancellationToken: Ct));
        var faults = EventJournalTests.Collect(journal.Watch(0, FaultsOnly, Ct));
        var vcpu1 = EventJournalTests.Collect(journal.Watch(0, new EventFilter(new HashSet<EventKind>(), new HashSet<int> { 1 }), Ct));
        var states = EventJournalTests.Collect(journal.Watch(0, new EventFilter(new HashSet<EventKind> { EventKind.VcpuStateChanged }, new HashSet<int>()), Ct));

        // Two appenders, as two vCPU threads: faults are rare among reports, so the filtered watches wait often.
        var appenders = Enumerable.Range(0, 2).Select(vcpu => Task.Run(
            () =>
            {
                for (var i = 0; i < PerVcpu; i++)
                {
                    journal.Append(i % 50 == 0 ? Fault(vcpu, (ulong)i) : new EventPayload.GuestReport(vcpu, 0x10, (uint)i));
                    if (i % 500 == 0)
                    {
                        journal.Append(new EventPayload.VcpuStateChanged(vcpu, VcpuState.Running, "step"));
                    }
                }
            },
            Ct)).ToArray();
        await Task.WhenAll(appenders);
        journal.Complete();

        var all = await everything;
        Assert.Equal(Enumerable.Range(1, all.Count).Select(i => (ulong)i), all.Select(e => e.Sequence));
        AssertSelection(all, await faults, e => e.Kind == EventKind.MemoryFault);
        AssertSelection(all, await vcpu1, e => e.Payload.SourceVcpu == 1);
        AssertSelection(all, await states, e => e.Kind == EventKind.VcpuStateChanged);
    }

    [Fact]
    public async Task Cancelling_a_waiting_filtered_watch_ends_it_and_later_appends_still_reach_the_others()
    {
        var journal = new EventJournal("vm-a", 16);
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        var cancelled = EventJournalTests.Collect(journal.Watch(0, FaultsOnly, cts.Token));
        await using var other = journal.Watch(0, FaultsOnly, Ct).GetAsyncEnumerator(Ct);
        var next = other.MoveNextAsync();
        journal.Append(EventJournalTests.Report(0));
        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => cancelled);

        journal.Append(Fault(0, 1));
        Assert.True(await next);
        Assert.Equal(2UL, other.Current.Sequence);
    }

    // The watch saw exactly the events of the full journal that the predicate selects, the same instances, in order.
    private static void AssertSelection(List<VmEvent> all, List<VmEvent> seen, Func<VmEvent, bool> wanted)
    {
        var expected = all.Where(wanted).ToList();
        Assert.NotEmpty(expected);
        Assert.Equal(expected.Count, seen.Count);
        Assert.All(expected.Zip(seen), pair => Assert.Same(pair.First, pair.Second));
    }

    private static EventPayload.MemoryFault Fault(int vcpu, ulong id) => new(vcpu, 4096, 4096, true, 0, id);
}
