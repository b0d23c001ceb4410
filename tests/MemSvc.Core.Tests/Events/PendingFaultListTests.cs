using MemSvc.Core.Errors;
using MemSvc.Core.Events;
using MemSvc.Core.Faults;
using MemSvc.Core.Options;
using MemSvc.Core.Vcpus;
using MemSvc.Core.Vms;
using MemSvc.Hypervisor;
using static MemSvc.Core.Tests.Flows.ConversionFlow;
using static MemSvc.Core.Tests.Support.Core;

namespace MemSvc.Core.Tests.Events;

/// <summary>ListPendingFaults: the faults vCPUs wait on, and per VM the position a watch continues from (list, then watch).</summary>
public class PendingFaultListTests
{
    [Fact]
    public async Task A_listing_names_each_waiting_fault_by_its_event_and_deadline_and_a_watch_from_its_position_starts_right_after_it()
    {
        var now = new DateTimeOffset(2030, 1, 2, 3, 4, 5, TimeSpan.Zero);
        await using var manager = Manager(new CoreOptions { TimeProvider = new FixedClock(now) });
        SetUp(manager, "listed", FaultPolicy.Orchestrator, TimeSpan.FromMinutes(5));
        manager.Vcpus.StartVcpu(Alice, "listed", 0);
        manager.Vcpus.StartVcpu(Alice, "listed", 1);
        await WaitingAsync(manager, "listed", 2);

        var page = manager.Events.ListPendingFaults(Alice, "listed");

        var last = manager.Vms.GetVm(Alice, "listed").LastEventSequence;
        Assert.Equal([new VmPosition("listed", manager.Vms.GetVm(Alice, "listed").Uid, last + 1)], page.Positions);
        Assert.Equal(string.Empty, page.NextPageToken);
        var faults = page.Faults.Select(f => (EventPayload.MemoryFault)f.Event.Payload).ToList();
        Assert.Equal([1UL, 2UL], faults.Select(f => f.FaultId).Order());
        Assert.Equal([SharedPage(0), SharedPage(1)], faults.OrderBy(f => f.Vcpu).Select(f => f.Gpa));
        Assert.All(faults, f => Assert.Equal((K4, true), (f.Size, f.Private)));
        Assert.All(page.Faults, f => Assert.Equal((now, now + TimeSpan.FromMinutes(5)), (f.Event.Time, f.Deadline)));
        Assert.All(faults, f => Assert.Equal(now + TimeSpan.FromMinutes(5), f.Deadline));
        Assert.True(page.Faults[0].Event.Sequence < page.Faults[1].Event.Sequence);

        // Resolving one of them: the watch from the position starts exactly there, with that resolution's events.
        var first = page.Faults[0];
        var resolvedId = ((EventPayload.MemoryFault)first.Event.Payload).FaultId;
        manager.Events.ResolveFault(Alice, "listed", resolvedId, FaultAction.Convert);
        var after = await Until(manager.Events.WatchEvents(Alice, "listed", last + 1, cancellationToken: Ct), e => e[^1].Kind == EventKind.FaultResolved);
        Assert.Equal(last + 1, after[0].Sequence);
        Assert.Equal(resolvedId, ((EventPayload.FaultResolved)after[^1].Payload).FaultId);
        var still = manager.Events.ListPendingFaults(Alice, "listed").Faults.Select(f => ((EventPayload.MemoryFault)f.Event.Payload).FaultId).ToList();
        Assert.Equal(resolvedId == 1 ? 2UL : 1UL, still[0]);
        Assert.DoesNotContain(resolvedId, still);
    }

    [Fact]
    public async Task Every_listing_taken_while_vcpus_fault_and_a_resolver_answers_equals_what_the_journal_says_was_pending_at_its_position()
    {
        const int Faults = 80;
        await using var manager = Manager();
        SetUp(manager, "busy", FaultPolicy.Orchestrator, TimeSpan.FromMinutes(5));
        for (var i = 0; i < 2; i++)
        {
            manager.Vcpus.LoadGuestProgram(Alice, "busy", i, Flipping(PrivatePage(i), Faults));
        }

        var resolver = Until(manager.Events.WatchEvents(Alice, "busy", 1, cancellationToken: Ct), events =>
        {
            if (events[^1].Payload is EventPayload.MemoryFault fault)
            {
                manager.Events.ResolveFault(Alice, "busy", fault.FaultId, FaultAction.Convert);
            }

            return AllFinished(events, 2);
        });
        manager.Vcpus.StartVcpu(Alice, "busy", 0);
        manager.Vcpus.StartVcpu(Alice, "busy", 1);
        var listings = new List<PendingFaultPage>();
        while (!resolver.IsCompleted)
        {
            listings.Add(manager.Events.ListPendingFaults(Alice, "busy"));
        }

        var journal = await resolver;
        Assert.Equal(2 * Faults, journal.Count(e => e.Kind == EventKind.MemoryFault));
        Assert.Contains(listings, l => l.Faults.Count > 0);

        // One pass over the journal, listings in position order: the faults pending before each position.
        var pending = new SortedSet<ulong>();
        var read = 0;
        foreach (var listing in listings.OrderBy(l => Assert.Single(l.Positions).NextSequence))
        {
            for (; read < journal.Count && journal[read].Sequence < listing.Positions[0].NextSequence; read++)
            {
                _ = journal[read].Payload switch
                {
                    EventPayload.MemoryFault f => pending.Add(f.FaultId),
                    EventPayload.FaultResolved r => pending.Remove(r.FaultId),
                    _ => false,
                };
            }

            Assert.Equal(pending, listing.Faults.Select(f => ((EventPayload.MemoryFault)f.Event.Payload).FaultId).Order());
            Assert.All(listing.Faults, f => Assert.Same(journal[(int)f.Event.Sequence - 1], f.Event));
        }
    }

    [Fact]
    public async Task A_listing_of_every_VM_pages_by_VM_gives_every_visible_VM_a_position_and_hides_other_owners()
    {
        await using var manager = Manager();
        foreach (var (owner, id) in new[] { (Alice, "a1"), (Bob, "b1"), (Alice, "a2"), (Alice, "a3") })
        {
            manager.Vms.CreateVm(owner, new() { VmId = id, VmType = VmType.SwProtected, FaultPolicy = FaultPolicy.Orchestrator });
        }

        manager.Vcpus.LoadGuestProgram(Alice, "a2", 0, Program(new GuestStep.Halt()));

        var first = manager.Events.ListPendingFaults(Alice, null, pageSize: 2);
        var second = manager.Events.ListPendingFaults(Alice, null, pageSize: 2, first.NextPageToken);

        string Uid(string id) => manager.Vms.GetVm(Alice, id).Uid;
        Assert.Equal([new VmPosition("a1", Uid("a1"), 1), new VmPosition("a2", Uid("a2"), 2)], first.Positions);
        Assert.Equal([new VmPosition("a3", Uid("a3"), 1)], second.Positions);
        Assert.Equal(string.Empty, second.NextPageToken);
        Assert.Equal(["a1", "a2", "a3", "b1"], manager.Events.ListPendingFaults(Admin, null).Positions.Select(p => p.VmId));
        var hidden = Assert.Throws<CoreException>(() => manager.Events.ListPendingFaults(Bob, "a1"));
        Assert.Equal(ErrorReasons.VmNotFound, hidden.Reason);
        var badPage = Assert.Throws<CoreException>(() => manager.Events.ListPendingFaults(Alice, null, pageSize: -1));
        Assert.Equal((ErrorReasons.InvalidPageSize, "page_size"), (badPage.Reason, badPage.Field));
    }

    /// <summary>A clock that always says <paramref name="now"/>: event times and deadlines become exact values. Timers stay real.</summary>
    private sealed class FixedClock(DateTimeOffset now) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => now;
    }

    /// <summary>A program whose every step faults: writes to one page with private and shared intent in turn.</summary>
    internal static GuestProgram Flipping(ulong page, int faults)
    {
        var steps = new List<GuestStep>();
        for (var i = 0; i < faults; i++)
        {
            // The page starts private: a shared write faults, then a private one, and so on.
            steps.Add(Write(page, K4, (byte)i, i % 2 == 0 ? AccessIntent.Shared : AccessIntent.Private));
        }

        steps.Add(new GuestStep.Halt());
        return new GuestProgram(steps);
    }

    /// <summary>Until <paramref name="count"/> vCPUs of <paramref name="vmId"/> were seen entering WAITING.</summary>
    internal static Task<List<VmEvent>> WaitingAsync(VmManager manager, string vmId, int count) =>
        Until(manager.Events.WatchEvents(Alice, vmId, 1, cancellationToken: Ct), events =>
            events.Count(e => e.Payload is EventPayload.VcpuStateChanged { State: VcpuState.Waiting }) == count);
}
