using Grpc.Core;
using MemSvc.Contracts.V1;
using MemSvc.Server.Tests.Infrastructure;
using static MemSvc.Server.Tests.Infrastructure.Steps;

namespace MemSvc.Server.Tests.Events;

/// <summary>WatchEvents: exactly-once resume, several watchers, compaction, a watcher that falls behind, all-VM watches.</summary>
public sealed class WatchTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_watcher_that_drops_its_stream_and_resumes_from_the_next_sequence_loses_and_repeats_nothing()
    {
        await using var server = await RunningServer.StartAsync();
        var clients = new Clients(server.LoopbackChannel());
        var vm = await Scenario.VmWithMemoryAsync(clients, "resume");
        await Waits.RunToHaltAsync(clients, vm.Name, Waits.Chatty(0));

        var seen = new List<Event>();
        await using (var first = Watcher.Start(clients, vm.Name))
        {
            for (var i = 0; i < 100; i++)
            {
                seen.Add(await first.NextAsync());
            }
        }

        await using var second = Watcher.Start(clients, vm.Name, seen[^1].Sequence + 1);
        seen.AddRange(await second.TakeUntilAsync(e => e.VcpuStateChanged?.State == VcpuState.Halted));

        Assert.Equal(Enumerable.Range(1, 258).Select(i => (ulong)i), seen.Select(e => e.Sequence));
        Assert.Equal(Enumerable.Range(0, 255).Select(i => (uint)i), seen.Where(e => e.GuestReport is not null).Select(e => e.GuestReport.Value));
    }

    [Fact]
    public async Task Two_watchers_of_one_VM_one_live_and_one_late_see_the_same_events()
    {
        await using var server = await RunningServer.StartAsync();
        var clients = new Clients(server.LoopbackChannel());
        var vm = await Scenario.VmWithMemoryAsync(clients, "two");
        await using var live = Watcher.Start(clients, vm.Name);

        await Waits.RunToHaltAsync(clients, vm.Name, Waits.Chatty(1));
        await using var late = Watcher.Start(clients, vm.Name);

        var fromLive = await live.TakeUntilAsync(e => e.VcpuStateChanged?.State == VcpuState.Halted);
        var fromLate = await late.TakeUntilAsync(e => e.VcpuStateChanged?.State == VcpuState.Halted);
        Assert.Equal(258, fromLive.Count);
        Assert.Equal(fromLive, fromLate);
    }

    [Fact]
    public async Task A_watch_from_sequence_0_gets_only_events_recorded_after_it_started()
    {
        await using var server = await RunningServer.StartAsync();
        var clients = new Clients(server.LoopbackChannel());
        var vm = await Scenario.VmWithMemoryAsync(clients, "zero");
        var convert = new ConvertMemoryRequest { Vm = vm.Name, Gpa = 0, Size = Page, Target = MemoryVisibility.Private };
        await clients.Memory.ConvertMemoryAsync(convert, cancellationToken: Ct);
        await using var watcher = Watcher.Start(clients, vm.Name, startSequence: 0);

        // When the server took the watch is not observable, so convert until the watcher has seen something.
        var next = watcher.NextAsync();
        while (!next.IsCompleted)
        {
            convert.Target = convert.Target == MemoryVisibility.Private ? MemoryVisibility.Shared : MemoryVisibility.Private;
            await clients.Memory.ConvertMemoryAsync(convert, cancellationToken: Ct);
            await Task.WhenAny(next, Task.Delay(5, Ct));
        }

        Assert.True((await next).Sequence > 1);
    }

    [Fact]
    public async Task GetVm_names_the_newest_sequence_so_that_a_watch_from_now_starts_exactly_after_it()
    {
        await using var server = await RunningServer.StartAsync();
        var clients = new Clients(server.LoopbackChannel());
        var vm = await Scenario.VmWithMemoryAsync(clients, "now");
        var convert = new ConvertMemoryRequest { Vm = vm.Name, Gpa = 0, Size = Page, Target = MemoryVisibility.Private };
        var first = await clients.Memory.ConvertMemoryAsync(convert, cancellationToken: Ct);

        var last = (await clients.Vms.GetVmAsync(new GetVmRequest { Name = vm.Name }, cancellationToken: Ct)).Vm.LastEventSequence;
        Assert.Equal(first.EventSequence, last);
        await using var watcher = Watcher.Start(clients, vm.Name, startSequence: last + 1);
        convert.Target = MemoryVisibility.Shared;
        var second = await clients.Memory.ConvertMemoryAsync(convert, cancellationToken: Ct);

        var next = await watcher.NextAsync();
        Assert.Equal((last + 1, last + 1, false), (second.EventSequence, next.Sequence, next.ConversionApplied.ToPrivate));
        Assert.Equal(last + 1, (await clients.Vms.GetVmAsync(new GetVmRequest { Name = vm.Name }, cancellationToken: Ct)).Vm.LastEventSequence);
    }

    [Fact]
    public async Task A_start_older_than_the_journal_keeps_fails_SEQUENCE_COMPACTED_with_the_oldest_sequence()
    {
        await using var server = await RunningServer.StartAsync(("MemSvc:JournalRetention", "16"));
        var clients = new Clients(server.LoopbackChannel());
        var vm = await Scenario.VmWithMemoryAsync(clients, "compact");
        await Waits.RunToHaltAsync(clients, vm.Name, Waits.Chatty(0));

        var error = await RpcAssert.FailsAsync(
            async () =>
            {
                using var call = clients.Events.WatchEvents(new WatchEventsRequest { Vm = vm.Name, StartSequence = 1 }, cancellationToken: Ct);
                await call.ResponseStream.MoveNext(Ct);
            },
            StatusCode.OutOfRange,
            "SEQUENCE_COMPACTED",
            "start_sequence");

        Assert.Equal("243", error.Info.Metadata["oldest_sequence"]);
        await using var fromOldest = Watcher.Start(clients, vm.Name, 243);
        Assert.Equal(243UL, (await fromOldest.NextAsync()).Sequence);
    }

    [Fact]
    public async Task A_watcher_that_does_not_read_never_blocks_the_vCPU_and_is_told_it_fell_behind()
    {
        await using var server = await RunningServer.StartAsync(("MemSvc:JournalRetention", "16"));
        var clients = new Clients(server.LoopbackChannel());
        var vm = await Scenario.VmWithMemoryAsync(clients, "slow");
        using var slow = clients.Events.WatchEvents(new WatchEventsRequest { Vm = vm.Name, StartSequence = 1 }, cancellationToken: Ct);

        // The watch is live once it has delivered an event: opened and left unread, it may start on the server only
        // after the flood below has compacted sequence 1 away (SEQUENCE_COMPACTED, seen in 2 of 8 loaded runs).
        await clients.Memory.ConvertMemoryAsync(new ConvertMemoryRequest { Vm = vm.Name, Gpa = 0, Size = Page, Target = MemoryVisibility.Private }, cancellationToken: Ct);
        Assert.True(await slow.ResponseStream.MoveNext(Ct));
        var sequences = new List<ulong> { slow.ResponseStream.Current.Event.Sequence };

        // Far more than HTTP/2 flow control and Kestrel's buffers hold, while the slow watcher reads nothing.
        for (uint round = 0; round < 30; round++)
        {
            await Waits.RunToHaltAsync(clients, vm.Name, Waits.Chatty(round));
        }

        var end = await Assert.ThrowsAsync<RpcException>(async () =>
        {
            while (await slow.ResponseStream.MoveNext(Ct))
            {
                sequences.Add(slow.ResponseStream.Current.Event.Sequence);
            }
        });

        var error = RpcError.From(end);
        Assert.Equal((StatusCode.OutOfRange, "WATCHER_FELL_BEHIND"), (error.Code, error.Info.Reason));
        Assert.Equal(Enumerable.Range(1, sequences.Count).Select(i => (ulong)i), sequences);
        Assert.Equal((sequences.Count + 1).ToString(System.Globalization.CultureInfo.InvariantCulture), error.Info.Metadata["next_sequence"]);
        Assert.True(ulong.Parse(error.Info.Metadata["oldest_sequence"], System.Globalization.CultureInfo.InvariantCulture) > (ulong)sequences.Count + 1);
    }

    [Fact]
    public async Task A_watcher_reconnecting_a_thousand_times_during_a_run_sees_every_sequence_exactly_once()
    {
        await using var server = await RunningServer.StartAsync();
        var clients = new Clients(server.LoopbackChannel());
        var vm = await Scenario.VmWithMemoryAsync(clients, "reconnect");
        var run = Task.Run(
            async () =>
            {
                for (uint round = 0; round < 5; round++)
                {
                    await Waits.RunToHaltAsync(clients, vm.Name, Waits.Chatty(round));
                }

                return (await clients.Memory.ConvertMemoryAsync(new ConvertMemoryRequest { Vm = vm.Name, Gpa = 0, Size = Page, Target = MemoryVisibility.Private }, cancellationToken: Ct)).EventSequence;
            },
            Ct);

        var seen = new List<ulong>();
        for (var connection = 0; connection < 1000; connection++)
        {
            await using var watcher = Watcher.Start(clients, vm.Name, seen.Count == 0 ? 1 : seen[^1] + 1);
            seen.Add((await watcher.NextAsync()).Sequence);
        }

        var last = await run;
        await using (var rest = Watcher.Start(clients, vm.Name, seen[^1] + 1))
        {
            while (seen[^1] < last)
            {
                seen.Add((await rest.NextAsync()).Sequence);
            }
        }

        Assert.Equal(5UL * 258 + 1, last);
        Assert.Equal(Enumerable.Range(1, (int)last).Select(i => (ulong)i), seen);
    }

    [Fact]
    public async Task A_watch_of_every_VM_sees_each_VMs_events_in_order_and_filters_apply()
    {
        await using var server = await RunningServer.StartAsync();
        var clients = new Clients(server.LoopbackChannel());
        var first = await Scenario.VmWithMemoryAsync(clients, "one");
        var second = await Scenario.VmWithMemoryAsync(clients, "two");
        foreach (var vm in new[] { first, second, first })
        {
            await clients.Memory.ConvertMemoryAsync(new ConvertMemoryRequest { Vm = vm.Name, Gpa = 0, Size = Page, Target = MemoryVisibility.Private }, cancellationToken: Ct);
        }

        await using var all = Watcher.Start(clients, "", 1, new EventFilter { Kinds = { EventKind.ConversionApplied } });
        var events = new List<Event>();
        for (var i = 0; i < 3; i++)
        {
            events.Add(await all.NextAsync());
        }

        Assert.Equal(["vms/one 1", "vms/one 2"], events.Where(e => e.Vm == "vms/one").Select(e => $"{e.Vm} {e.Sequence}"));
        Assert.Equal(["vms/two 1"], events.Where(e => e.Vm == "vms/two").Select(e => $"{e.Vm} {e.Sequence}"));
        Assert.All(events, e => Assert.Equal(ConversionInitiator.Api, e.ConversionApplied.Initiator));
    }

    [Fact]
    public async Task A_watch_of_every_VM_starts_each_VM_named_in_start_sequences_where_it_says()
    {
        await using var server = await RunningServer.StartAsync();
        var clients = new Clients(server.LoopbackChannel());
        var converts = new Dictionary<string, int> { ["one"] = 3, ["two"] = 2, ["three"] = 1, ["four"] = 1 };
        foreach (var (id, count) in converts)
        {
            var vm = await Scenario.VmWithMemoryAsync(clients, id);
            for (var i = 0; i < count; i++)
            {
                await ConvertAsync(clients, vm.Name, i % 2 == 0);
            }
        }

        var request = new WatchEventsRequest
        {
            StartSequence = 2,
            Filter = new EventFilter { Kinds = { EventKind.ConversionApplied } },
            // one resumes after its second event, three from now; a VM that does not exist is ignored; four's start is
            // past its journal, a position in an earlier VM of that name, so four starts at 1.
            StartSequences = { ["vms/one"] = 3, ["vms/three"] = 0, ["vms/ghost"] = 5, ["vms/four"] = 50 },
        };
        await using var all = Watcher.Start(clients, request);
        var seen = new List<string> { Describe(await all.NextAsync()), Describe(await all.NextAsync()), Describe(await all.NextAsync()) };
        // Every VM's start is fixed before the first event is sent, so three's "now" is already behind this.
        await ConvertAsync(clients, "vms/three", toPrivate: false);
        var next = all.NextAsync();
        seen.Add(Describe(await next));
        Assert.Equal(["vms/four 1", "vms/one 3", "vms/three 2", "vms/two 2"], seen.Order());
    }

    private static Task ConvertAsync(Clients clients, string vm, bool toPrivate) =>
        clients.Memory.ConvertMemoryAsync(
            new ConvertMemoryRequest { Vm = vm, Gpa = 0, Size = Page, Target = toPrivate ? MemoryVisibility.Private : MemoryVisibility.Shared },
            cancellationToken: Ct).ResponseAsync;

    private static string Describe(Event e) => $"{e.Vm} {e.Sequence}";
}
