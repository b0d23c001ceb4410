using MemSvc.Client.Errors;
using MemSvc.Client.Events;
using MemSvc.Client.Tests.Infrastructure;
using MemSvc.Contracts.V1;
using MemSvc.Testing;

namespace MemSvc.Client.Tests.Watch;

/// <summary>
/// The SDK's watch against the real server while the client side keeps breaking it: every event must arrive
/// exactly once and in order, judged by sequences and payloads, never by timing.
/// </summary>
public sealed class ResumableWatchTests
{
    private static MemSvcClientOptions Options(TestServer server, FaultInjector? injector = null)
    {
        var options = new MemSvcClientOptions
        {
            Address = server.Loopback,
            WatchReconnectBaseDelay = TimeSpan.FromMilliseconds(1),
            RetryMaxDelay = TimeSpan.FromMilliseconds(5),
        };
        if (injector is not null)
        {
            options.Interceptors.Add(injector);
        }

        return options;
    }

    [Fact]
    public async Task Every_event_arrives_exactly_once_across_hundreds_of_dropped_streams_and_refused_reconnects()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var server = await TestServer.StartAsync();
        using var plain = new MemSvcClient(Options(server));
        var vm = await Memory.VmWithMemoryAsync(plain, "drops", FaultPolicy.Auto);

        // Streams are cut after 1 to 7 messages, and every fifth reconnect is refused outright.
        var injector = new FaultInjector { MessagesBeforeDrop = open => 1 + (open * 7919 % 7), FailStreamOpen = open => open % 5 == 0 };
        using var client = new MemSvcClient(Options(server, injector));
        var reconnects = 0;
        var received = new System.Collections.Concurrent.ConcurrentQueue<Event>();
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var watching = Task.Run(async () =>
        {
            var options = new WatchOptions { Vm = vm.Name, StartSequence = 1, OnReconnecting = _ => reconnects++ };
            await foreach (var e in client.Events.WatchAsync(options, stop.Token))
            {
                received.Enqueue(e);
            }
        }, ct);

        // Events keep coming while the watch is being broken: two vCPUs, three runs each, 150 reports a run.
        for (var run = 0; run < 3; run++)
        {
            for (uint vcpu = 0; vcpu < 2; vcpu++)
            {
                await plain.Vcpus.LoadProgramAsync(vm.Name, vcpu, Memory.Reporter(150), ct);
                await plain.Vcpus.StartAsync(vm.Name, vcpu, ct);
            }

            for (uint vcpu = 0; vcpu < 2; vcpu++)
            {
                await Memory.WaitFinishedAsync(plain, vm.Name, vcpu);
            }
        }

        // The last event of the journal: once the watch delivered it, it has delivered everything.
        var final = await plain.Memory.ConvertMemoryAsync(vm.Name, 0, 4096, MemoryVisibility.Private, ct);
        using (var deadline = CancellationTokenSource.CreateLinkedTokenSource(ct))
        {
            deadline.CancelAfter(TimeSpan.FromSeconds(60));
            while (!received.Any(e => e.Sequence == final))
            {
                await Task.Delay(10, deadline.Token);
            }
        }

        await stop.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => watching);

        Assert.Equal(Enumerable.Range(1, (int)final).Select(i => (ulong)i), received.Select(e => e.Sequence));
        Assert.True(injector.StreamDrops >= 200, $"only {injector.StreamDrops} streams were dropped");
        Assert.True(reconnects >= 200, $"only {reconnects} reconnects");

        // The payloads are the journal's own: an undisturbed watch from 1 reads the same events.
        var reference = await plain.Events.WatchAsync(new WatchOptions { Vm = vm.Name, StartSequence = 1 }, ct).Take((int)final).ToListAsync(ct);
        Assert.Equal(reference, received.ToList());
    }

    // The timeout is a hang guard: a resume that restarts VMs from an old start never gets past the drops.
    [Fact(Timeout = 120_000)]
    public async Task An_all_vms_watch_delivers_each_vms_events_once_in_order_across_drops()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var server = await TestServer.StartAsync();
        using var plain = new MemSvcClient(Options(server));
        var a = await Memory.VmWithMemoryAsync(plain, "all-a", FaultPolicy.Auto, vcpus: 1);
        var b = await Memory.VmWithMemoryAsync(plain, "all-b", FaultPolicy.Auto, vcpus: 1);
        var expected = new Dictionary<string, ulong>();
        foreach (var vm in new[] { a, b })
        {
            await plain.Vcpus.LoadProgramAsync(vm.Name, 0, Memory.Reporter(60), ct);
            await plain.Vcpus.StartAsync(vm.Name, 0, ct);
        }

        foreach (var vm in new[] { a, b })
        {
            await Memory.WaitFinishedAsync(plain, vm.Name, 0);
            expected[vm.Name] = await plain.Memory.ConvertMemoryAsync(vm.Name, 0, 4096, MemoryVisibility.Private, ct);
        }

        var injector = new FaultInjector { MessagesBeforeDrop = open => 1 + (open % 4) };
        using var client = new MemSvcClient(Options(server, injector));
        var received = new List<Event>();
        await foreach (var e in client.Events.WatchAsync(new WatchOptions { StartSequence = 1 }, ct))
        {
            received.Add(e);
            if (expected.All(p => received.Any(r => r.Vm == p.Key && r.Sequence == p.Value)))
            {
                break;
            }
        }

        foreach (var (vm, last) in expected)
        {
            Assert.Equal(Enumerable.Range(1, (int)last).Select(i => (ulong)i), received.Where(e => e.Vm == vm).Select(e => e.Sequence));
        }

        Assert.True(injector.StreamDrops > 10);
        // Each resume names every VM's own next sequence (start_sequences): nothing was sent twice to be dropped.
        Assert.Equal(received.Count, injector.StreamMessages);
    }

    // The timeout is a hang guard: a resume that started the new VM at the watch's start would never send its first event.
    [Fact(Timeout = 60_000)]
    public async Task An_all_vms_watch_from_a_sequence_gets_a_VM_created_while_it_was_away_from_1()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var server = await TestServer.StartAsync();
        using var plain = new MemSvcClient(Options(server));
        await Memory.VmWithMemoryAsync(plain, "early", FaultPolicy.Auto, vcpus: 1);
        ulong earlyLast = 0;
        for (var i = 0; i < 4; i++)
        {
            earlyLast = await plain.Memory.ConvertMemoryAsync("vms/early", 0, 4096, i % 2 == 0 ? MemoryVisibility.Private : MemoryVisibility.Shared, ct);
        }

        // The watch starts every VM at sequence 3; its first stream ends after early's events from 3 on, and a VM
        // made while it is away has a single event, sequence 1, which a resume from 3 would never send.
        const ulong Start = 3;
        var injector = new FaultInjector
        {
            MessagesBeforeDrop = open => open == 1 ? (int)(earlyLast - Start + 1) : int.MaxValue,
            FailStreamOpen = open =>
            {
                if (open != 2)
                {
                    return false;
                }

                // The interceptor's hook is synchronous; the server runs in this process, on other threads.
                Memory.VmWithMemoryAsync(plain, "late", FaultPolicy.Auto, vcpus: 1).GetAwaiter().GetResult();
                plain.Memory.ConvertMemoryAsync("vms/late", 0, 4096, MemoryVisibility.Private, ct).GetAwaiter().GetResult();
                return true;
            },
        };
        using var client = new MemSvcClient(Options(server, injector));

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
        using var plain = new MemSvcClient(Options(server));
        await Memory.VmWithMemoryAsync(plain, "again", FaultPolicy.Auto, vcpus: 1);
        ulong oldLast = 0;
        for (var i = 0; i < 5; i++)
        {
            oldLast = await plain.Memory.ConvertMemoryAsync("vms/again", 0, 4096, i % 2 == 0 ? MemoryVisibility.Private : MemoryVisibility.Shared, ct);
        }

        // The first stream ends after the old VM's events; while the watch is away, the VM is deleted and made again
        // with fewer events than the position the watch holds for that name.
        ulong newLast = 0;
        var injector = new FaultInjector
        {
            MessagesBeforeDrop = open => open == 1 ? (int)oldLast : int.MaxValue,
            FailStreamOpen = open =>
            {
                if (open != 2)
                {
                    return false;
                }

                // The interceptor's hook is synchronous; the server runs in this process, on other threads.
                plain.Vms.DeleteAsync("again", ct).GetAwaiter().GetResult();
                Memory.VmWithMemoryAsync(plain, "again", FaultPolicy.Auto, vcpus: 1).GetAwaiter().GetResult();
                newLast = plain.Memory.ConvertMemoryAsync("vms/again", 0, 4096, MemoryVisibility.Private, ct).GetAwaiter().GetResult();
                return true;
            },
        };
        using var client = new MemSvcClient(Options(server, injector));

        var received = await client.Events.WatchAsync(new WatchOptions { StartSequence = 1 }, ct).Take((int)oldLast + 1).ToListAsync(ct);

        Assert.True(newLast < oldLast, $"the new VM has {newLast} events, the old had {oldLast}");
        Assert.Equal(Enumerable.Range(1, (int)oldLast).Select(i => (ulong)i).Append(1UL), received.Select(e => e.Sequence));
    }

    // The timeout is a hang guard: a watch that lost the events waits for them forever.
    [Theory(Timeout = 60_000)]
    [InlineData(true)]
    [InlineData(false)]
    public async Task A_watch_from_now_whose_first_stream_fails_still_gets_every_event_after_it_began(bool allVms)
    {
        var ct = TestContext.Current.CancellationToken;
        await using var server = await TestServer.StartAsync();
        using var plain = new MemSvcClient(Options(server));
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
        var injector = new FaultInjector
        {
            FailStreamOpen = open =>
            {
                if (open > 1)
                {
                    return false;
                }

                // The interceptor's hook is synchronous; the server runs in this process, on other threads.
                foreach (var vm in new[] { a, b })
                {
                    during[vm.Name] = plain.Memory.ConvertMemoryAsync(vm.Name, 0, 4096, MemoryVisibility.Shared, ct).GetAwaiter().GetResult();
                }

                return true;
            },
        };
        using var client = new MemSvcClient(Options(server, injector));
        var watch = new WatchOptions { Vm = allVms ? null : a.Name, StartSequence = 0 };
        var first = await client.Events.WatchAsync(watch, ct).Take(allVms ? 2 : 1).ToListAsync(ct);

        Assert.Equal(2, injector.StreamOpens);
        var expected = allVms ? new[] { a.Name, b.Name } : [a.Name];
        Assert.Equal(
            expected.Select(vm => (vm, before[vm] + 1, during[vm])).Order(),
            first.Select(e => (e.Vm, e.Sequence, e.Sequence)).Order());
    }

    [Theory]
    [InlineData(Grpc.Core.StatusCode.Unavailable)]
    [InlineData(Grpc.Core.StatusCode.Internal)]
    [InlineData(Grpc.Core.StatusCode.Cancelled)]
    [InlineData(null)]
    public async Task Streams_reset_or_ended_by_the_server_are_resumed_without_loss(Grpc.Core.StatusCode? ending)
    {
        var ct = TestContext.Current.CancellationToken;
        await using var server = await TestServer.StartAsync();
        using var plain = new MemSvcClient(Options(server));
        var vm = await Memory.VmWithMemoryAsync(plain, "endings", FaultPolicy.Auto, vcpus: 1);
        await plain.Vcpus.LoadProgramAsync(vm.Name, 0, Memory.Reporter(50), ct);
        await plain.Vcpus.StartAsync(vm.Name, 0, ct);
        await Memory.WaitFinishedAsync(plain, vm.Name, 0);
        var last = await plain.Memory.ConvertMemoryAsync(vm.Name, 0, 4096, MemoryVisibility.Private, ct);

        var injector = new FaultInjector { MessagesBeforeDrop = _ => 3, DropStatus = ending };
        using var client = new MemSvcClient(Options(server, injector));
        var received = await client.Events.WatchAsync(new WatchOptions { Vm = vm.Name, StartSequence = 1 }, ct).Take((int)last).ToListAsync(ct);

        Assert.Equal(Enumerable.Range(1, (int)last).Select(i => (ulong)i), received.Select(e => e.Sequence));
        Assert.True(injector.StreamDrops >= ((int)last / 3) - 1, $"{injector.StreamDrops} drops");
    }

    [Fact]
    public async Task A_start_before_the_retained_window_fails_with_the_oldest_sequence_still_held()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var server = await TestServer.StartAsync(("MemSvc:JournalRetention", "16"));
        using var client = new MemSvcClient(Options(server));
        var vm = await Memory.VmWithMemoryAsync(client, "compacted", FaultPolicy.Auto, vcpus: 1);
        await client.Vcpus.LoadProgramAsync(vm.Name, 0, Memory.Reporter(40), ct);
        await client.Vcpus.StartAsync(vm.Name, 0, ct);
        await Memory.WaitFinishedAsync(client, vm.Name, 0);

        var error = await Assert.ThrowsAsync<EventsCompactedException>(async () =>
            await client.Events.WatchAsync(new WatchOptions { Vm = vm.Name, StartSequence = 1 }, ct).FirstAsync(ct));

        Assert.Equal(Grpc.Core.StatusCode.OutOfRange, error.StatusCode);
        Assert.Equal(ErrorTranslator.SequenceCompacted, error.Reason);
        Assert.True(error.OldestSequence > 1, $"oldest sequence {error.OldestSequence}");
        Assert.Equal(1UL, error.NextSequence);

        // Resynchronising from the oldest sequence held works.
        var first = await client.Events.WatchAsync(new WatchOptions { Vm = vm.Name, StartSequence = error.OldestSequence!.Value }, ct).FirstAsync(ct);
        Assert.Equal(error.OldestSequence, first.Sequence);
    }

    [Fact]
    public async Task A_watch_that_cannot_reconnect_gives_up_after_the_configured_failures_with_a_typed_error()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var server = await TestServer.StartAsync();
        var injector = new FaultInjector { FailStreamOpen = _ => true };
        var options = Options(server, injector);
        options.WatchMaxConsecutiveFailures = 5;
        using var client = new MemSvcClient(options);

        var error = await Assert.ThrowsAsync<MemSvcException>(async () =>
            await client.Events.WatchAsync(new WatchOptions { StartSequence = 1 }, ct).FirstAsync(ct));

        Assert.Equal(Grpc.Core.StatusCode.Unavailable, error.StatusCode);
        Assert.Equal(6, injector.StreamOpens);
    }
}
