using Grpc.Core;
using MemSvc.Contracts.V1;
using MemSvc.Server.Tests.Infrastructure;
using static MemSvc.Server.Tests.Infrastructure.Steps;

namespace MemSvc.Server.Tests.Events;

/// <summary>Progress messages: a filtered watch's position moves with the journal even when nothing it wants happens.</summary>
public sealed class BookmarkTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_filtered_watch_over_a_journal_that_compacts_under_it_resumes_from_its_last_bookmark_without_OUT_OF_RANGE()
    {
        await using var server = await RunningServer.StartAsync(("MemSvc:JournalRetention", "16"));
        var clients = new Clients(server.LoopbackChannel());
        var vm = await Scenario.VmWithMemoryAsync(clients, "bookmarked");
        var reports = new EventFilter { Kinds = { EventKind.GuestReport } };
        var request = new WatchEventsRequest { Vm = vm.Name, StartSequence = 1, Filter = reports, ProgressMessages = true, BookmarkInterval = new() { Nanos = 10_000_000 } };
        ulong last = 0;
        var bookmarks = new List<ulong>();
        using (var call = clients.Events.WatchEvents(request, cancellationToken: Ct))
        {
            // The watch is live once it has sent the bookmark for the first skipped conversion: unread, it could
            // start on the server after the others had compacted sequence 1 away (SEQUENCE_COMPACTED, once in CI).
            await clients.Memory.ConvertMemoryAsync(new() { Vm = vm.Name, Gpa = 0, Size = Page, Target = MemoryVisibility.Private }, cancellationToken: Ct);
            Assert.True(await call.ResponseStream.MoveNext(Ct));
            bookmarks.Add(call.ResponseStream.Current.Bookmark.NextSequence);

            // A hundred conversions in all: events this watch skips, over six times the journal's window.
            for (var i = 1; i < 100; i++)
            {
                last = (await clients.Memory.ConvertMemoryAsync(new() { Vm = vm.Name, Gpa = 0, Size = Page, Target = i % 2 == 0 ? MemoryVisibility.Private : MemoryVisibility.Shared }, cancellationToken: Ct)).EventSequence;
            }

            while (bookmarks.Count == 0 || bookmarks[^1] <= last)
            {
                Assert.True(await call.ResponseStream.MoveNext(Ct));
                Assert.Equal(WatchEventsResponse.ItemOneofCase.Bookmark, call.ResponseStream.Current.ItemCase);
                Assert.Equal(vm.Name, call.ResponseStream.Current.Bookmark.Vm);
                bookmarks.Add(call.ResponseStream.Current.Bookmark.NextSequence);
            }
        }

        Assert.Equal(100UL, last);
        Assert.Equal(last + 1, bookmarks[^1]);
        Assert.Equal(bookmarks.Order(), bookmarks);

        // The stream is gone; the journal holds 85..100. Resuming from the event position (nothing seen: 1) fails,
        // from the bookmark it gets the next report.
        await RpcAssert.FailsAsync(
            async () =>
            {
                using var stale = clients.Events.WatchEvents(new WatchEventsRequest { Vm = vm.Name, StartSequence = 1, Filter = reports }, cancellationToken: Ct);
                await stale.ResponseStream.MoveNext(Ct);
            },
            StatusCode.OutOfRange,
            "SEQUENCE_COMPACTED",
            "start_sequence");
        await using var resumed = Watcher.Start(clients, new WatchEventsRequest { Vm = vm.Name, StartSequence = bookmarks[^1], Filter = reports });
        await Waits.RunToHaltAsync(clients, vm.Name, Program(Report(42), Halt()));
        var report = await resumed.NextAsync();
        Assert.Equal((last + 3, 42U), (report.Sequence, report.GuestReport.Value)); // READY, RUNNING, then the report
    }

    [Fact]
    public async Task An_all_VMs_watch_sends_each_VMs_bookmark_under_its_name()
    {
        await using var server = await RunningServer.StartAsync(("MemSvc:JournalRetention", "16"));
        var clients = new Clients(server.LoopbackChannel());
        var a = await Scenario.VmWithMemoryAsync(clients, "a");
        var b = await Scenario.VmWithMemoryAsync(clients, "b");
        var request = new WatchEventsRequest { StartSequence = 1, Filter = new() { Kinds = { EventKind.GuestReport } }, ProgressMessages = true, BookmarkInterval = new() { Nanos = 10_000_000 } };
        using var call = clients.Events.WatchEvents(request, cancellationToken: Ct);
        var final = new Dictionary<string, ulong>();
        foreach (var (vm, times) in new[] { (a, 3), (b, 5) })
        {
            for (var i = 0; i < times; i++)
            {
                final[vm.Name] = 1 + (await clients.Memory.ConvertMemoryAsync(new() { Vm = vm.Name, Gpa = 0, Size = Page, Target = i % 2 == 0 ? MemoryVisibility.Private : MemoryVisibility.Shared }, cancellationToken: Ct)).EventSequence;
            }
        }

        var seen = new Dictionary<string, ulong>();
        while (seen.GetValueOrDefault(a.Name) != final[a.Name] || seen.GetValueOrDefault(b.Name) != final[b.Name])
        {
            Assert.True(await call.ResponseStream.MoveNext(Ct));
            var bookmark = call.ResponseStream.Current.Bookmark;
            Assert.True(bookmark.NextSequence > seen.GetValueOrDefault(bookmark.Vm), "a VM's bookmarks only move forward");
            seen[bookmark.Vm] = bookmark.NextSequence;
        }

        Assert.Equal(new Dictionary<string, ulong> { [a.Name] = 4, [b.Name] = 6 }, seen);
    }
}
