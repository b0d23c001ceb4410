using MemSvc.Client.Events;
using MemSvc.Client.Tests.Infrastructure;
using MemSvc.Contracts.V1;
using MemSvc.Testing;

namespace MemSvc.Client.Tests.Watch;

/// <summary>The SDK's watch resumes from bookmarks: a filtered watch's resume point keeps up with compaction.</summary>
public sealed class BookmarkResumeTests
{
    // The timeout is a hang guard: a bookmark that never comes, or a resume that waits, would hang here.
    [Fact(Timeout = 60_000)]
    public async Task A_filtered_watch_whose_stream_drops_after_the_journal_compacted_past_its_last_event_resumes_from_the_bookmark()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var server = await TestServer.StartAsync(("MemSvc:JournalRetention", "16"));
        var injector = new FaultInjector { TrackStreams = true };
        var options = ResumableWatchTests.Options(server, injector);
        options.WatchBookmarkInterval = TimeSpan.FromMilliseconds(10);
        using var client = new MemSvcClient(options);
        var vm = await Memory.VmWithMemoryAsync(client, "kept", FaultPolicy.Auto, vcpus: 1);
        var caughtUp = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        ulong last = 0;
        var reconnects = new List<ulong>();
        var watch = new WatchOptions
        {
            Vm = vm.Name,
            StartSequence = 1,
            Kinds = [EventKind.GuestReport],
            OnBookmark = b =>
            {
                // The journal's end after the hundred conversions below.
                if (b.NextSequence == 101)
                {
                    caughtUp.TrySetResult();
                }
            },
            OnReconnecting = r => reconnects.Add(r.ResumeFrom),
        };
        var first = client.Events.WatchAsync(watch, ct).FirstAsync(ct).AsTask();

        // A hundred conversions the watch skips, six times the journal's window; then the stream is lost.
        for (var i = 0; i < 100; i++)
        {
            last = await client.Memory.ConvertMemoryAsync(vm.Name, 0, 4096, i % 2 == 0 ? MemoryVisibility.Private : MemoryVisibility.Shared, ct);
        }

        Assert.Equal(100UL, last);
        await caughtUp.Task.WaitAsync(ct);
        injector.DropStreams();
        await client.Vcpus.LoadProgramAsync(vm.Name, 0, Memory.Reporter(1), ct);
        await client.Vcpus.StartAsync(vm.Name, 0, ct);

        var report = await first;
        Assert.Equal((103UL, 0U), (report.Sequence, report.GuestReport.Value)); // READY, RUNNING, then the report
        Assert.Equal([101UL], reconnects);
    }
}
