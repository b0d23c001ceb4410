using System.Diagnostics.Metrics;
using System.Runtime.CompilerServices;
using MemSvc.Core.Errors;
using MemSvc.Core.Events;
using MemSvc.Core.Identity;
using MemSvc.Core.Options;
using MemSvc.Core.Telemetry;
using MemSvc.Core.Vms;
using MemSvc.Hypervisor;
using static MemSvc.Core.Tests.Support.Core;

namespace MemSvc.Core.Tests.Events;

/// <summary>
/// An owner's journals share MaxJournalEventsPerOwner (probe D5): past it a journal compacts instead of growing,
/// appends are never refused, another owner is not touched, and a deleted VM's events stop counting.
/// </summary>
public class JournalBudgetTests
{
    private const ulong Gpa = 0x1_0000_0000;

    [Fact]
    public async Task Past_the_owners_budget_a_journal_compacts_earlier_and_a_delete_gives_the_budget_back()
    {
        // Each journal 6 events at most, and at least 2; Alice's and Bob's journals 8 events each in all.
        await using var manager = Manager(new CoreOptions
        {
            JournalCapacity = 6,
            JournalRetentionFloor = 2,
            Quotas = new QuotaOptions { MaxJournalEventsPerOwner = 8 },
        });
        var a = NewVm(manager, Alice, "a");
        var b = NewVm(manager, Alice, "b");
        var c = NewVm(manager, Bob, "c");
        Convert(manager, Alice, "a", 6);
        Convert(manager, Alice, "b", 5);
        Convert(manager, Bob, "c", 6);

        // a holds its 6, b its floor of 2 (events 4 and 5), Bob's c its 6.
        var compacted = OldestHeld(manager, Alice, "b");
        var bFrom4 = await Sequences(manager, Alice, "b", 4, 2);
        var others = (OldestHeld(manager, Alice, "a"), OldestHeld(manager, Bob, "c"));
        var gauge = HeldEvents(a, b, c);

        // a's delete gives its 6 back: b grows again instead of compacting (oldest still 4 after 3 more).
        manager.Vms.DeleteVm(Alice, "a");
        Convert(manager, Alice, "b", 3, firstPage: 5);

        Assert.Equal((4UL, 1UL, 1UL), (compacted, others.Item1, others.Item2));
        Assert.Equal(new Dictionary<string, long> { [a] = 6, [b] = 2, [c] = 6 }, gauge);
        Assert.Equal([4UL, 5UL], bFrom4);
        Assert.Equal((4UL, 8UL), (OldestHeld(manager, Alice, "b"), manager.Vms.GetVm(Alice, "b").LastEventSequence));
    }

    [Fact]
    public async Task A_journal_held_to_its_floor_grows_again_in_order_once_the_budget_frees()
    {
        // The other journal uses the whole budget, so this one keeps 1 event (its floor, counted too) of its first 100.
        var budget = new JournalBudget(1000, 1);
        var other = new EventJournal("other", string.Empty, 1000, null, null, null, budget);
        var journal = new EventJournal("j", string.Empty, 128, null, null, null, budget);
        Append(other, 1000);
        Append(journal, 100);
        var before = (journal.OldestSequence, journal.HeldCount, budget.Held);

        // Freed, it grows past its first ring (64 slots) while its oldest is 100, not 1: the copy must re-place them.
        other.Complete();
        Append(journal, 100);
        var held = await Until(journal.Watch(100, cancellationToken: Ct), l => l.Count == 101);

        Assert.Equal((100UL, 1, 1001L), before);
        Assert.Equal((100UL, 101, 101L), (journal.OldestSequence, journal.HeldCount, budget.Held));
        Assert.Equal(Enumerable.Range(100, 101).Select(i => (ulong)i), held.Select(e => e.Sequence));
        Assert.Equal(Enumerable.Range(100, 101).Select(i => (uint)i), held.Select(e => ((EventPayload.GuestReport)e.Payload).Value));
    }

    [Fact]
    public async Task A_deleted_VMs_journal_events_are_not_kept_alive()
    {
        await using var manager = Manager();
        NewVm(manager, Alice, "gone");
        Convert(manager, Alice, "gone", 3);
        var events = await WeakEvents(manager);

        manager.Vms.DeleteVm(Alice, "gone");
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();

        Assert.Equal([false, false, false], events.Select(e => e.IsAlive));
    }

    /// <summary>The oldest sequence the journal holds: the one a watch from 1 is told it must start at.</summary>
    private static ulong OldestHeld(VmManager manager, CallerIdentity owner, string vmId)
    {
        try
        {
            manager.Events.WatchEvents(owner, vmId, 1, cancellationToken: Ct);
            return 1;
        }
        catch (CoreException e) when (e.Reason == ErrorReasons.SequenceCompacted)
        {
            return ulong.Parse(e.Metadata["oldest_sequence"], System.Globalization.CultureInfo.InvariantCulture);
        }
    }

    private static async Task<List<ulong>> Sequences(VmManager manager, CallerIdentity owner, string vmId, ulong from, int count) =>
        [.. (await Until(manager.Events.WatchEvents(owner, vmId, from, cancellationToken: Ct), l => l.Count == count)).Select(e => e.Sequence)];

    // Not inlined, so that no local of the test method keeps an event reachable.
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static async Task<List<WeakReference>> WeakEvents(VmManager manager) =>
        [.. (await Until(manager.Events.WatchEvents(Alice, "gone", 1, cancellationToken: Ct), l => l.Count == 3)).Select(e => new WeakReference(e))];

    private static void Append(EventJournal journal, int count)
    {
        for (var i = 0; i < count; i++)
        {
            journal.Append(new EventPayload.GuestReport(0, 0x10, (uint)journal.NextSequence));
        }
    }

    private static string NewVm(VmManager manager, CallerIdentity owner, string vmId)
    {
        var uid = manager.Vms.CreateVm(owner, new() { VmId = vmId, VmType = VmType.SwProtected }).Uid;
        var memfd = manager.GuestMemfds.CreateGuestMemfd(owner, vmId, M, GuestMemfdFlags.None);
        manager.MemoryRegions.SetMemoryRegion(owner, vmId, new() { Slot = 0, Gpa = Gpa, Size = M, Flags = MemoryRegionFlags.GuestMemfd, GuestMemfdId = memfd.Id });
        return uid;
    }

    // One collection of memsvc.core.journal.events, keeping the points of the given VM uids (the meter is process-wide).
    private static Dictionary<string, long> HeldEvents(params string[] uids)
    {
        var points = new Dictionary<string, long>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == CoreActivities.MeterName && instrument.Name == "memsvc.core.journal.events")
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((_, value, tags, _) =>
        {
            var uid = (string)tags.ToArray().Single(t => t.Key == "vm_uid").Value!;
            if (uids.Contains(uid))
            {
                points.Add(uid, value);
            }
        });
        listener.Start();
        listener.RecordObservableInstruments();
        return points;
    }

    /// <summary><paramref name="count"/> conversions of one page each: one CONVERSION_APPLIED event each.</summary>
    private static void Convert(VmManager manager, CallerIdentity owner, string vmId, int count, int firstPage = 0)
    {
        for (var page = firstPage; page < firstPage + count; page++)
        {
            manager.Memory.ConvertMemory(owner, vmId, Gpa + ((ulong)page * K4), K4, toPrivate: true);
        }
    }
}
