using MemSvc.Client.Errors;
using MemSvc.Client.Events;
using MemSvc.Client.Tests.Infrastructure;
using MemSvc.Contracts.V1;
using MemSvc.Testing;

namespace MemSvc.Client.Tests.Watch;

/// <summary>
/// What happens while a watch has no stream: events, a VM created, a VM deleted and created again. The injector
/// refuses one reconnect after doing it, so the moment is the test's, never a race; every event must still arrive
/// once, each VM from where the watch stood in it (or from 1 for a VM new to it).
/// </summary>
public sealed class WatchAwayTests
{
    /// <summary>
    /// An injector that refuses stream open number <paramref name="open"/> after doing <paramref name="whileAway"/>:
    /// something that happens while the watch has no stream, at a moment the test chooses exactly.
    /// </summary>
    private static FaultInjector AwayAt(int open, Func<Task> whileAway, Func<int, int>? messagesBeforeDrop = null) => new()
    {
        MessagesBeforeDrop = messagesBeforeDrop,
        FailStreamOpen = opened =>
        {
            if (opened != open)
            {
                return false;
            }

            // The interceptor's hook is synchronous; the server runs in this process, on other threads.
            whileAway().GetAwaiter().GetResult();
            return true;
        },
    };

    /// <summary>Converts one page of <paramref name="vm"/> back and forth <paramref name="times"/> times; the last event's sequence.</summary>
    private static async Task<ulong> ConvertTimesAsync(MemSvcClient client, string vm, int times)
    {
        ulong last = 0;
        for (var i = 0; i < times; i++)
        {
            last = await client.Memory.ConvertMemoryAsync(vm, 0, 4096, i % 2 == 0 ? MemoryVisibility.Private : MemoryVisibility.Shared, TestContext.Current.CancellationToken);
        }

        return last;
    }

    // The timeout is a hang guard: a resume that started the new VM at the watch's start would never send its first event.
    [Fact(Timeout = 60_000)]
    public async Task An_all_vms_watch_from_a_sequence_gets_a_VM_created_while_it_was_away_from_1()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var server = await TestServer.StartAsync();
        using var plain = new MemSvcClient(ResumableWatchTests.Options(server));
        await Memory.VmWithMemoryAsync(plain, "early", FaultPolicy.Auto, vcpus: 1);
        var earlyLast = await ConvertTimesAsync(plain, "vms/early", 4);

        // The watch starts every VM at sequence 3; its first stream ends after early's events from 3 on, and a VM
        // made while it is away has a single event, sequence 1, which a resume from 3 would never send.
        const ulong Start = 3;
        var injector = AwayAt(
            2,
            async () =>
            {
                await Memory.VmWithMemoryAsync(plain, "late", FaultPolicy.Auto, vcpus: 1);
                await ConvertTimesAsync(plain, "vms/late", 1);
            },
            open => open == 1 ? (int)(earlyLast - Start + 1) : int.MaxValue);
        using var client = new MemSvcClient(ResumableWatchTests.Options(server, injector));

        var received = await client.Events.WatchAsync(new WatchOptions { StartSequence = Start }, ct)
            .Take((int)(earlyLast - Start + 2)).Select(e => $"{e.Vm} {e.Sequence}").ToListAsync(ct);

        var expected = Enumerable.Range((int)Start, (int)(earlyLast - Start + 1)).Select(s => $"vms/early {s}").Append("vms/late 1");
        Assert.Equal(expected, received);
    }

    // The timeout is a hang guard: a resume that kept the old VM's position would wait for it forever.
    [Fact(Timeout = 60_000)]
    public async Task An_all_vms_watch_that_resumes_after_a_VM_was_deleted_and_created_again_gets_the_new_VMs_events_from_1()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var server = await TestServer.StartAsync();
        using var plain = new MemSvcClient(ResumableWatchTests.Options(server));
        await Memory.VmWithMemoryAsync(plain, "again", FaultPolicy.Auto, vcpus: 1);
        var oldLast = await ConvertTimesAsync(plain, "vms/again", 5);

        // The first stream ends after the old VM's events; while the watch is away, the VM is deleted and made again
        // with fewer events than the position the watch holds for that name.
        ulong newLast = 0;
        var injector = AwayAt(
            2,
            async () =>
            {
                await plain.Vms.DeleteAsync("again", ct);
                await Memory.VmWithMemoryAsync(plain, "again", FaultPolicy.Auto, vcpus: 1);
                newLast = await ConvertTimesAsync(plain, "vms/again", 1);
            },
            open => open == 1 ? (int)oldLast : int.MaxValue);
        using var client = new MemSvcClient(ResumableWatchTests.Options(server, injector));

        var received = await client.Events.WatchAsync(new WatchOptions { StartSequence = 1 }, ct).Take((int)oldLast + 1).ToListAsync(ct);

        Assert.True(newLast < oldLast, $"the new VM has {newLast} events, the old had {oldLast}");
        Assert.Equal(Enumerable.Range(1, (int)oldLast).Select(i => (ulong)i).Append(1UL), received.Select(e => e.Sequence));
    }

    // The timeout is a hang guard: a resume that kept the old VM's position would wait for it forever.
    [Fact(Timeout = 60_000)]
    public async Task A_VM_deleted_and_created_again_while_the_watch_was_away_is_seen_to_end_before_the_new_one_begins_never_mixed()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var server = await TestServer.StartAsync();
        using var plain = new MemSvcClient(ResumableWatchTests.Options(server));
        var old = await Memory.VmWithMemoryAsync(plain, "again", FaultPolicy.Auto, vcpus: 1);
        var oldLast = await ConvertTimesAsync(plain, old.Name, 3);
        Vm? now = null;
        var injector = AwayAt(
            2,
            async () =>
            {
                await plain.Vms.DeleteAsync(old.Name, ct);
                now = await Memory.VmWithMemoryAsync(plain, "again", FaultPolicy.Auto, vcpus: 1);
                await ConvertTimesAsync(plain, now.Name, 2);
            },
            open => open == 1 ? (int)oldLast : int.MaxValue);
        using var client = new MemSvcClient(ResumableWatchTests.Options(server, injector));
        var log = new List<string>();
        var watch = new WatchOptions { StartSequence = 1, OnVmEnded = e => log.Add($"ended {e.Vm} {e.VmUid} {e.Reason} at {e.NextSequence}") };

        await foreach (var e in client.Events.WatchAsync(watch, ct).Take((int)oldLast + 2).WithCancellation(ct))
        {
            log.Add($"{e.Vm} {e.VmUid} {e.Sequence}");
        }

        Assert.Equal(
            [
                $"vms/again {old.Uid} 1", $"vms/again {old.Uid} 2", $"vms/again {old.Uid} 3",
                $"ended vms/again {old.Uid} Replaced at 4",
                $"vms/again {now!.Uid} 1", $"vms/again {now.Uid} 2",
            ],
            log);
    }

    [Fact(Timeout = 60_000)]
    public async Task A_one_VM_watch_whose_VM_was_replaced_while_it_was_away_fails_VM_REPLACED_instead_of_joining_the_new_one()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var server = await TestServer.StartAsync();
        using var plain = new MemSvcClient(ResumableWatchTests.Options(server));
        var old = await Memory.VmWithMemoryAsync(plain, "single", FaultPolicy.Auto, vcpus: 1);
        await ConvertTimesAsync(plain, old.Name, 1);
        Vm? now = null;
        var injector = AwayAt(
            2,
            async () =>
            {
                await plain.Vms.DeleteAsync(old.Name, ct);
                now = await Memory.VmWithMemoryAsync(plain, "single", FaultPolicy.Auto, vcpus: 1);
                await ConvertTimesAsync(plain, now.Name, 3);
            },
            open => open == 1 ? 1 : int.MaxValue);
        using var client = new MemSvcClient(ResumableWatchTests.Options(server, injector));
        var seen = new List<ulong>();

        var error = await Assert.ThrowsAsync<VmReplacedException>(async () =>
        {
            await foreach (var e in client.Events.WatchAsync(new WatchOptions { Vm = old.Name, StartSequence = 1 }, ct))
            {
                seen.Add(e.Sequence);
            }
        });

        Assert.Equal([1UL], seen);
        Assert.Equal((old.Uid, now!.Uid), (error.VmUid, error.CurrentVmUid));
    }

    // The timeout is a hang guard: a watch that lost the events waits for them forever.
    [Theory(Timeout = 60_000)]
    [InlineData(true)]
    [InlineData(false)]
    public async Task A_watch_from_now_whose_first_stream_fails_still_gets_every_event_after_it_began(bool allVms)
    {
        var ct = TestContext.Current.CancellationToken;
        await using var server = await TestServer.StartAsync();
        using var plain = new MemSvcClient(ResumableWatchTests.Options(server));
        var a = await Memory.VmWithMemoryAsync(plain, "now-a", FaultPolicy.Auto, vcpus: 1);
        var b = await Memory.VmWithMemoryAsync(plain, "now-b", FaultPolicy.Auto, vcpus: 1);
        var before = new Dictionary<string, ulong>
        {
            [a.Name] = await plain.Memory.ConvertMemoryAsync(a.Name, 0, 4096, MemoryVisibility.Private, ct),
            [b.Name] = await plain.Memory.ConvertMemoryAsync(b.Name, 0, 4096, MemoryVisibility.Private, ct),
        };

        // The first stream is refused after events happened (as a connection lost before the first event): a watch
        // that only knew "0" would resume at a new "now" and lose them.
        var during = new Dictionary<string, ulong>();
        var injector = AwayAt(1, async () =>
        {
            foreach (var vm in new[] { a, b })
            {
                during[vm.Name] = await plain.Memory.ConvertMemoryAsync(vm.Name, 0, 4096, MemoryVisibility.Shared, ct);
            }
        });
        using var client = new MemSvcClient(ResumableWatchTests.Options(server, injector));
        var watch = new WatchOptions { Vm = allVms ? null : a.Name, StartSequence = 0 };
        var first = await client.Events.WatchAsync(watch, ct).Take(allVms ? 2 : 1).ToListAsync(ct);

        Assert.Equal(2, injector.StreamOpens);
        var expected = allVms ? new[] { a.Name, b.Name } : [a.Name];
        Assert.Equal(
            expected.Select(vm => (vm, before[vm] + 1, during[vm])).Order(),
            first.Select(e => (e.Vm, e.Sequence, e.Sequence)).Order());
    }
}
