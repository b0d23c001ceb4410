using MemSvc.Core.Errors;
using MemSvc.Core.Events;
using MemSvc.Core.Events.Files;
using MemSvc.Core.Options;
using MemSvc.Core.Tests.Support;
using MemSvc.Core.Vms;
using MemSvc.Hypervisor;
using Microsoft.Extensions.Logging;
using static MemSvc.Core.Tests.Support.Core;

namespace MemSvc.Core.Tests.Events.Files;

/// <summary>
/// A manager started on a journal directory reports every VM of the previous one lost: its journal, read back,
/// ends with exactly one VM_LOST at the sequence after its last, however many restarts follow; the name is free
/// for a new incarnation; DeleteVm of the name frees the lost journal and its file.
/// </summary>
public sealed class JournalRecoveryTests : IDisposable
{
    private const ulong Gpa = 0x1_0000_0000;
    private const ulong M = 1 << 20;
    private const ulong K4 = 4096;

    private readonly DirectoryInfo _directory = Directory.CreateTempSubdirectory("memsvc-journal-recovery-");

    [Fact]
    public async Task A_stopped_managers_VMs_are_lost_once_with_their_events_kept_and_their_names_free()
    {
        string oldUid, oldInstance;
        await using (var first = Manager(Options("first")))
        {
            oldUid = NewVm(first, "a");
            Convert(first, "a", 5);
            oldInstance = first.Options.Journal.InstanceId;
        }

        List<VmEvent> afterFirstRestart;
        CoreException getVm;
        await using (var second = Manager(Options("second")))
        {
            getVm = Assert.Throws<CoreException>(() => second.Vms.GetVm(Alice, "a"));
            afterFirstRestart = await All(second.Events.WatchEvents(Alice, "a", 1, cancellationToken: Ct));
        }

        await using var third = Manager(Options("third"));
        var afterSecondRestart = await All(third.Events.WatchEvents(Alice, "a", 4, cancellationToken: Ct));
        var newUid = NewVm(third, "a");
        var live = third.Vms.GetVm(Alice, "a");
        var byOldUid = await All(third.Events.Watch(Alice, new WatchRequest { VmId = "a", VmUid = oldUid, StartSequence = 6 }, Ct).Select(i => i.Event!));
        var resolve = Assert.Throws<CoreException>(() => third.Events.ResolveFault(Alice, "a", 1, Faults.FaultAction.Convert, oldUid));

        Assert.Equal((ErrorKind.NotFound, ErrorReasons.VmLost, "6"), (getVm.Kind, getVm.Reason, getVm.Metadata["last_sequence"]));
        Assert.Equal([1UL, 2UL, 3UL, 4UL, 5UL, 6UL], afterFirstRestart.Select(e => e.Sequence));
        Assert.All(afterFirstRestart, e => Assert.Equal(oldUid, e.VmUid));
        var lost = Assert.IsType<EventPayload.VmLost>(afterFirstRestart[^1].Payload);
        Assert.Equal(oldInstance, lost.InstanceId);
        Assert.StartsWith($"daemon restarted: instance {oldInstance} stopped at ", lost.Reason, StringComparison.Ordinal);
        Assert.Equal([4UL, 5UL, 6UL], afterSecondRestart.Select(e => e.Sequence));
        Assert.Equal(afterFirstRestart[^1], afterSecondRestart[^1]);
        Assert.NotEqual(oldUid, newUid);
        Assert.Equal((newUid, 0UL), (live.Uid, live.LastEventSequence));
        Assert.Equal([6UL], byOldUid.Select(e => e.Sequence));
        Assert.Equal((ErrorReasons.VmLost, oldUid), (resolve.Reason, resolve.Metadata["vm_uid"]));
        Assert.Equal(2, Directory.GetFiles(_directory.FullName, "*.journal").Length);
    }

    [Fact]
    public async Task DeleteVm_of_a_lost_name_frees_its_journal_budget_and_file()
    {
        await using (var first = Manager(Options("first")))
        {
            NewVm(first, "a");
            Convert(first, "a", 3);
        }

        await using var second = Manager(Options("second") with { Quotas = new QuotaOptions { MaxJournalEventsPerOwner = 100 } });
        var files = Directory.GetFiles(_directory.FullName, "*.journal").Length;
        second.Vms.DeleteVm(Alice, "a");
        var gone = Assert.Throws<CoreException>(() => second.Vms.GetVm(Alice, "a"));
        var watch = Assert.Throws<CoreException>(() => second.Events.WatchEvents(Alice, "a", 1, cancellationToken: Ct));

        Assert.Equal(1, files);
        Assert.Empty(Directory.GetFiles(_directory.FullName, "*.journal"));
        Assert.Equal((ErrorReasons.VmNotFound, ErrorReasons.VmNotFound), (gone.Reason, watch.Reason));
    }

    [Fact]
    public async Task A_lost_journal_counts_against_its_owners_budget_until_DeleteVm_frees_it()
    {
        // Journals of 6 events at most and 2 at least; an owner's journals 8 in all (as JournalBudgetTests).
        var limits = new QuotaOptions { MaxJournalEventsPerOwner = 8 };
        await using (var first = Manager(Options("first") with { JournalCapacity = 6, JournalRetentionFloor = 2, Quotas = limits }))
        {
            NewVm(first, "a");
            Convert(first, "a", 6);
        }

        await using var second = Manager(Options("second") with { JournalCapacity = 6, JournalRetentionFloor = 2, Quotas = limits });
        NewVm(second, "b");
        Convert(second, "b", 5, firstPage: 0);

        // The lost a holds 6 (events 2..7, VM_LOST last), so b keeps its floor of 2: events 4 and 5.
        var whileLost = OldestOf(second, "b");
        second.Vms.DeleteVm(Alice, "a");
        Convert(second, "b", 3, firstPage: 5);

        Assert.Equal("4", whileLost);
        Assert.Equal("4", OldestOf(second, "b"));
        Assert.Equal(8UL, second.Vms.GetVm(Alice, "b").LastEventSequence);
    }

    [Fact]
    public async Task A_file_of_an_unknown_version_is_logged_left_untouched_and_the_manager_serves()
    {
        var path = Path.Combine(_directory.FullName, "6f1c2a4e-3b5d-4c6e-8f70-123456789abc.journal");
        byte[] written = [.. "MSVJRNL\n"u8, 9, 0, 0, 0, 1, 2, 3];
        await File.WriteAllBytesAsync(path, written, Ct);
        var logs = new LogCapture();

        await using (var manager = Manager(Options("any"), loggerFactory: logs.Factory(LogLevel.Information)))
        {
            NewVm(manager, "b");
        }

        var refused = Assert.Single(logs.Records, r => r.EventId == 1051);
        Assert.Equal(LogLevel.Error, refused.Level);
        Assert.Equal($"Journal file {path} is not read: its format version is 9; this MemSvc reads version 1 only. It is left as it is (a MemSvc that reads it can still report its VM)", refused.Message);
        Assert.Equal(written, await File.ReadAllBytesAsync(path, Ct));
    }

    [Fact]
    public async Task An_all_VMs_watch_resumed_at_a_lost_VMs_position_reads_it_to_VM_LOST_then_the_new_VM_of_its_name_from_1()
    {
        string oldUid;
        await using (var first = Manager(Options("first")))
        {
            oldUid = NewVm(first, "a");
            Convert(first, "a", 5);
        }

        await using var second = Manager(Options("second"));
        var newUid = NewVm(second, "a");
        Convert(second, "a", 2);
        var request = new WatchRequest { Positions = [new VmPosition("a", oldUid, 4)], Bookmarks = new BookmarkSettings(BookmarkSettings.DefaultInterval) };
        var seen = new List<string>();
        await foreach (var item in second.Events.Watch(Alice, request, Ct))
        {
            var who = (item.Event?.VmUid ?? item.Notice!.VmUid) == oldUid ? "old" : item.Event?.VmUid == newUid ? "new" : "?";
            seen.Add(item.Event is { } e ? $"{who} {e.Sequence} {e.Kind}" : item.Notice is WatchNotice.VmEnded n ? $"{who} ended {n.NextSequence} {n.Reason}" : $"{who} {item.Notice}");
            if (seen.Count == 6)
            {
                break;
            }
        }

        Assert.Equal(
            ["old 4 ConversionApplied", "old 5 ConversionApplied", "old 6 VmLost", "old ended 7 Lost", "new 1 ConversionApplied", "new 2 ConversionApplied"],
            seen);
    }

    [Fact]
    public async Task A_torn_last_record_is_cut_off_and_VM_LOST_follows_the_last_whole_event()
    {
        await using (var first = Manager(Options("first")))
        {
            NewVm(first, "a");
            Convert(first, "a", 4);
        }

        // The stop mark (17 bytes) and 10 of the 67 bytes of event 4's record go, as a kill mid-write leaves them.
        var path = Assert.Single(Directory.GetFiles(_directory.FullName, "*.journal"));
        using (var handle = File.OpenHandle(path, FileMode.Open, FileAccess.Write))
        {
            RandomAccess.SetLength(handle, RandomAccess.GetLength(handle) - 17 - 10);
        }

        var logs = new LogCapture();
        await using var second = Manager(Options("second"), loggerFactory: logs.Factory(LogLevel.Information));
        var events = await All(second.Events.WatchEvents(Alice, "a", 1, cancellationToken: Ct));
        var reread = JournalFileReader.Read(path);

        Assert.Equal([1UL, 2UL, 3UL, 4UL], events.Select(e => e.Sequence));
        Assert.Equal(
            $"daemon restarted: instance first{new string('0', 27)} ended without handing off its VMs (killed or crashed)",
            Assert.IsType<EventPayload.VmLost>(events[^1].Payload).Reason);
        Assert.Equal(57L, Assert.Single(logs.Records, r => r.EventId == 1052)["Bytes"]);
        Assert.Equal(events, reread.Events);
        Assert.Equal(0L, reread.DroppedBytes);
    }

    [Fact]
    public async Task A_lost_journal_is_dropped_with_its_file_when_its_retention_passes_running_or_not()
    {
        await using (var first = Manager(Options("first")))
        {
            NewVm(first, "a");
            NewVm(first, "b");
        }

        var timers = new ManualTimers();
        int filesBefore, filesAfter;
        var shortly = new JournalOptions { Directory = _directory.FullName, LostRetention = TimeSpan.FromMilliseconds(1) };
        await using (var second = Manager(Options("second") with { TimeProvider = timers, Journal = shortly }))
        {
            // A timer that fires before the retention passed waits again; this one fires after it.
            filesBefore = Directory.GetFiles(_directory.FullName, "*.journal").Length;
            await Task.Delay(20, Ct);
            timers.FireAll();
            filesAfter = Directory.GetFiles(_directory.FullName, "*.journal").Length;
            Assert.Equal(ErrorReasons.VmNotFound, Assert.Throws<CoreException>(() => second.Vms.GetVm(Alice, "a")).Reason);
        }

        await using (var third = Manager(Options("third")))
        {
            NewVm(third, "c");
        }

        await using (var fourth = Manager(Options("fourth")))
        {
            Assert.Equal(ErrorReasons.VmLost, Assert.Throws<CoreException>(() => fourth.Vms.GetVm(Alice, "c")).Reason);
        }

        // c was lost by the fourth start; with a retention of 1 ms, the fifth finds it expired and removes its file.
        await Task.Delay(20, Ct);
        await using var fifth = Manager(Options("fifth") with { Journal = shortly });

        Assert.Equal((2, 0), (filesBefore, filesAfter));
        Assert.Equal(ErrorReasons.VmNotFound, Assert.Throws<CoreException>(() => fifth.Vms.GetVm(Alice, "c")).Reason);
        Assert.Empty(Directory.GetFiles(_directory.FullName, "*.journal"));
    }

    public void Dispose() => _directory.Delete(recursive: true);

    private CoreOptions Options(string instance) => new() { Journal = new JournalOptions { Directory = _directory.FullName, InstanceId = instance + new string('0', 32 - instance.Length) } };

    private static string NewVm(VmManager manager, string vmId)
    {
        var uid = manager.Vms.CreateVm(Alice, new() { VmId = vmId, VmType = VmType.SwProtected }).Uid;
        var memfd = manager.GuestMemfds.CreateGuestMemfd(Alice, vmId, M, GuestMemfdFlags.None);
        manager.MemoryRegions.SetMemoryRegion(Alice, vmId, new() { Slot = 0, Gpa = Gpa, Size = M, Flags = MemoryRegionFlags.GuestMemfd, GuestMemfdId = memfd.Id });
        return uid;
    }

    // The oldest sequence the VM's journal holds, as a watch from 1 is told.
    private static string OldestOf(VmManager manager, string vmId) =>
        Assert.Throws<CoreException>(() => manager.Events.WatchEvents(Alice, vmId, 1, cancellationToken: Ct)).Metadata["oldest_sequence"];

    private static void Convert(VmManager manager, string vmId, int count, int firstPage = 0)
    {
        for (var page = firstPage; page < firstPage + count; page++)
        {
            manager.Memory.ConvertMemory(Alice, vmId, Gpa + ((ulong)page * K4), K4, toPrivate: true);
        }
    }
}
