using MemSvc.Core.Errors;
using MemSvc.Core.Events;
using MemSvc.Core.Faults;
using MemSvc.Core.Identity;
using MemSvc.Core.Vms;
using MemSvc.Hypervisor;
using static MemSvc.Core.Tests.Support.Core;

namespace MemSvc.Core.Tests.Events;

/// <summary>
/// VM incarnations: every VM gets a uid at creation, its events carry it, and a watch or resolution that names an
/// incarnation never silently lands on another VM of the same name.
/// </summary>
public class IncarnationTests
{
    private const ulong Gpa = 0x1_0000_0000;
    private static readonly BookmarkSettings Progress = new(TimeSpan.FromHours(1));

    [Fact]
    public async Task A_VM_created_again_under_its_name_is_another_incarnation_and_its_events_say_which()
    {
        await using var manager = Manager();
        var first = NewVm(manager, "again");
        Convert(manager, "again", 0);
        var oldEvent = (await Until(manager.Events.WatchEvents(Alice, "again", 1, cancellationToken: Ct), e => e.Count == 1))[0];
        manager.Vms.DeleteVm(Alice, "again");
        var second = NewVm(manager, "again");
        Convert(manager, "again", 0);
        var newEvent = (await Until(manager.Events.WatchEvents(Alice, "again", 1, cancellationToken: Ct), e => e.Count == 1))[0];

        Assert.True(Guid.TryParseExact(first.Uid, "D", out _));
        Assert.NotEqual(first.Uid, second.Uid);
        Assert.Equal((1UL, first.Uid), (oldEvent.Sequence, oldEvent.VmUid));
        Assert.Equal((1UL, second.Uid), (newEvent.Sequence, newEvent.VmUid));
    }

    [Fact]
    public async Task A_one_VM_watch_naming_a_replaced_incarnation_fails_VM_REPLACED_and_one_starting_past_the_journal_fails_instead_of_waiting()
    {
        await using var manager = Manager();
        var old = NewVm(manager, "one");
        for (var i = 0; i < 5; i++)
        {
            Convert(manager, "one", i);
        }

        manager.Vms.DeleteVm(Alice, "one");
        var now = NewVm(manager, "one");
        Convert(manager, "one", 0);

        var replaced = Assert.Throws<CoreException>(() => manager.Events.Watch(Alice, new WatchRequest { VmId = "one", VmUid = old.Uid, StartSequence = 6 }, Ct));
        Assert.Equal((ErrorKind.FailedPrecondition, ErrorReasons.VmReplaced, "vm_uid"), (replaced.Kind, replaced.Reason, replaced.Field));
        Assert.Equal(new Dictionary<string, string> { ["vm_id"] = "one", ["vm_uid"] = old.Uid, ["current_vm_uid"] = now.Uid }, replaced.Metadata);

        // Without a uid, the old VM's position 6 is past the new VM's end (2): it cannot be a position of this VM.
        var beyond = Assert.Throws<CoreException>(() => manager.Events.WatchEvents(Alice, "one", 6, cancellationToken: Ct));
        Assert.Equal((ErrorKind.OutOfRange, ErrorReasons.SequenceBeyondEnd, "start_sequence"), (beyond.Kind, beyond.Reason, beyond.Field));
        Assert.Equal(new Dictionary<string, string> { ["next_sequence"] = "2", ["vm_id"] = "one", ["vm_uid"] = now.Uid }, beyond.Metadata);

        // The next sequence itself is a valid start (the next event), with the right uid too.
        await using var next = manager.Events.Watch(Alice, new WatchRequest { VmId = "one", VmUid = now.Uid, StartSequence = 2 }, Ct).GetAsyncEnumerator(Ct);
        var pending = next.MoveNextAsync();
        Convert(manager, "one", 1);
        Assert.True(await pending);
        Assert.Equal((2UL, now.Uid), (next.Current.Event!.Sequence, next.Current.Event.VmUid));
    }

    [Fact]
    public async Task An_all_VMs_watch_from_positions_reports_each_named_incarnation_that_is_gone_before_the_VM_that_holds_its_name_now()
    {
        await using var manager = Manager();
        var kept = NewVm(manager, "kept");
        var replacedOld = NewVm(manager, "swapped");
        var deletedOld = NewVm(manager, "dropped");
        for (var i = 0; i < 3; i++)
        {
            Convert(manager, "kept", i);
            Convert(manager, "swapped", i);
        }

        manager.Vms.DeleteVm(Alice, "swapped");
        manager.Vms.DeleteVm(Alice, "dropped");
        var replacedNew = NewVm(manager, "swapped");
        Convert(manager, "swapped", 7);

        var request = new WatchRequest
        {
            Positions = [new VmPosition("kept", kept.Uid, 3), new VmPosition("swapped", replacedOld.Uid, 4), new VmPosition("dropped", deletedOld.Uid, 1)],
            Bookmarks = Progress,
        };
        var items = await UntilItems(manager.Events.Watch(Alice, request, Ct), 4);

        Assert.Equal(
            [
                $"ended dropped {deletedOld.Uid} 1 Deleted",
                $"ended swapped {replacedOld.Uid} 4 Replaced",
                $"event kept {kept.Uid} 3",
                $"event swapped {replacedNew.Uid} 1",
            ],
            items.Select(Describe).Where(d => !d.StartsWith("bookmark", StringComparison.Ordinal)).Order(StringComparer.Ordinal));
        var swapped = items.Select(Describe).Where(d => d.Contains("swapped", StringComparison.Ordinal)).ToList();
        Assert.Equal([$"ended swapped {replacedOld.Uid} 4 Replaced", $"event swapped {replacedNew.Uid} 1"], swapped);
    }

    [Fact]
    public async Task A_VM_deleted_and_created_again_while_an_all_VMs_watch_runs_ends_before_the_new_one_begins()
    {
        await using var manager = Manager();
        var old = NewVm(manager, "live");
        Convert(manager, "live", 0);
        await using var watch = manager.Events.Watch(Alice, new WatchRequest { StartSequence = 1, Bookmarks = Progress }, Ct).GetAsyncEnumerator(Ct);
        Assert.True(await watch.MoveNextAsync());
        Assert.Equal($"event live {old.Uid} 1", Describe(watch.Current));

        Convert(manager, "live", 1);
        manager.Vms.DeleteVm(Alice, "live");
        var now = NewVm(manager, "live");
        Convert(manager, "live", 2);
        var rest = new List<string>();
        while (rest.Count < 3)
        {
            Assert.True(await watch.MoveNextAsync());
            rest.Add(Describe(watch.Current));
        }

        Assert.Equal([$"event live {old.Uid} 2", $"ended live {old.Uid} 3 Deleted", $"event live {now.Uid} 1"], rest);
    }

    [Fact]
    public async Task ResolveFault_naming_a_replaced_incarnation_fails_VM_REPLACED_and_a_malformed_uid_is_refused()
    {
        await using var manager = Manager();
        var old = NewVm(manager, "res", FaultPolicy.Orchestrator);
        manager.Vms.DeleteVm(Alice, "res");
        NewVm(manager, "res", FaultPolicy.Orchestrator);

        var replaced = Assert.Throws<CoreException>(() => manager.Events.ResolveFault(Alice, "res", 1, FaultAction.Convert, old.Uid));
        Assert.Equal((ErrorReasons.VmReplaced, "vm_uid"), (replaced.Reason, replaced.Field));
        var malformed = Assert.Throws<CoreException>(() => manager.Events.ResolveFault(Alice, "res", 1, FaultAction.Convert, "not-a-uid"));
        Assert.Equal((ErrorKind.InvalidArgument, ErrorReasons.InvalidVmUid, "vm_uid"), (malformed.Kind, malformed.Reason, malformed.Field));
        var twice = Assert.Throws<CoreException>(() => manager.Events.Watch(Alice, new WatchRequest { Positions = [new VmPosition("res", "", 1), new VmPosition("res", "", 2)] }, Ct));
        Assert.Equal((ErrorReasons.InvalidStartSequences, "positions"), (twice.Reason, twice.Field));
    }

    private static string Describe(WatchItem item) => item switch
    {
        { Event: { } e } => $"event {e.VmId} {e.VmUid} {e.Sequence}",
        { Notice: WatchNotice.VmEnded n } => $"ended {n.VmId} {n.VmUid} {n.NextSequence} {n.Reason}",
        { Notice: WatchNotice.Bookmark b } => $"bookmark {b.VmId} {b.VmUid} {b.NextSequence}",
        _ => "?",
    };

    private static async Task<List<WatchItem>> UntilItems(IAsyncEnumerable<WatchItem> items, int nonBookmarks)
    {
        var list = new List<WatchItem>();
        await foreach (var item in items)
        {
            list.Add(item);
            if (list.Count(i => i.Notice is not WatchNotice.Bookmark) == nonBookmarks)
            {
                break;
            }
        }

        return list;
    }

    private static VmInfo NewVm(VmManager manager, string vmId, FaultPolicy policy = FaultPolicy.Auto)
    {
        var vm = manager.Vms.CreateVm(Alice, new() { VmId = vmId, VmType = VmType.SwProtected, FaultPolicy = policy });
        var memfd = manager.GuestMemfds.CreateGuestMemfd(Alice, vmId, M, GuestMemfdFlags.None);
        manager.MemoryRegions.SetMemoryRegion(Alice, vmId, new() { Slot = 0, Gpa = Gpa, Size = M, Flags = MemoryRegionFlags.GuestMemfd, GuestMemfdId = memfd.Id });
        return vm;
    }

    private static void Convert(VmManager manager, string vmId, int page) =>
        manager.Memory.ConvertMemory(Alice, vmId, Gpa + ((ulong)page * K4), K4, toPrivate: true);
}
