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
    internal static MemSvcClientOptions Options(TestServer server, FaultInjector? injector = null)
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
