using Grpc.Core;
using MemSvc.Contracts.V1;
using MemSvc.Server.Tests.Infrastructure;

namespace MemSvc.Server.Tests.Hosting;

/// <summary>
/// Issue 16's planned handoff while vCPUs run and calls arrive, with journal files: several handoffs in a row over
/// one socket path, clients that only reconnect, and watchers that resume where they were.
/// </summary>
public sealed class HandoffUnderLoadTests : IDisposable
{
    private static readonly (string Key, string Value) TakeOver = ("MemSvc:Handoff:TakeOver", "true");

    private readonly DirectoryInfo _directory = Directory.CreateTempSubdirectory("memsvc-handoff-");

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private (string Key, string Value) Journal => ("MemSvc:Journal:Directory", Path.Combine(_directory.FullName, "journal"));

    [Fact]
    public async Task Three_handoffs_in_a_row_under_vCPU_and_conversion_load_lose_and_repeat_no_event_and_the_journal_files_go_on()
    {
        var seed = Environment.TickCount;
        var server = await ChildServer.StartInAsync(_directory.FullName, Journal);
        using var channel = RunningServer.SocketChannelTo(server.SocketPath);
        var clients = new Clients(channel);
        var vms = new List<(Vm Vm, List<Event> Seen)>();
        foreach (var name in new[] { "a", "b" })
        {
            vms.Add((await Scenario.VmWithMemoryAsync(clients, name, vcpus: 2), []));
        }

        using var stop = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        var watchers = vms.Select(v => Task.Run(() => FollowAsync(clients, v.Vm, v.Seen, stop.Token), CancellationToken.None)).ToList();
        foreach (var (vm, _) in vms)
        {
            await StartFaultingAsync(clients, vm.Name);
        }

        var conversions = new List<long>();
        var load = Task.WhenAll(vms.Select(v => Task.Run(() => ConvertAsync(clients, v.Vm.Name, conversions, stop.Token), CancellationToken.None)));
        try
        {
            for (var round = 0; round < 3; round++)
            {
                var counts = vms.Select(v => Count(v.Seen)).ToList();
                await DoomedServerLoad.WaitUntilAsync(() => vms.Select((v, i) => Count(v.Seen) > counts[i] + 500).All(x => x), seed);
                var next = await ChildServer.StartInAsync(_directory.FullName, Journal, TakeOver);
                Assert.Equal(0, await server.ExitCodeAsync());
                await server.DisposeAsync();
                server = next;
            }

            // Quiet: the vCPUs paused, the conversions stopped, the watchers caught up with the journals.
            await stop.CancelAsync();
            await load;
            foreach (var (vm, _) in vms)
            {
                for (var vcpu = 0; vcpu < 2; vcpu++)
                {
                    await StopAsync(clients, $"{vm.Name}/vcpus/{vcpu}");
                }
            }

            using var caughtUp = CancellationTokenSource.CreateLinkedTokenSource(Ct);
            var last = new List<ulong>();
            foreach (var (vm, seen) in vms)
            {
                last.Add((await clients.Vms.GetVmAsync(new() { Name = vm.Name }, cancellationToken: Ct)).Vm.LastEventSequence);
            }

            watchers = [.. vms.Select((v, i) => Task.Run(() => FollowAsync(clients, v.Vm, v.Seen, caughtUp.Token, until: last[i]), CancellationToken.None))];
            await Task.WhenAll(watchers);
            for (var i = 0; i < vms.Count; i++)
            {
                var (vm, seen) = vms[i];
                var because = $"seed {seed}, vm {vm.Name}";
                Assert.True(seen.Count > 1500, because);
                Assert.Equal(Enumerable.Range(1, (int)last[i]).Select(s => (ulong)s), seen.Select(e => e.Sequence));
                Assert.DoesNotContain(seen, e => e.PayloadCase == Event.PayloadOneofCase.VmLost);
                Assert.Equal([vm.Uid], seen.Select(e => e.VmUid).Distinct());
            }

            Assert.NotEmpty(conversions);
        }
        finally
        {
            await stop.CancelAsync();
            await server.DisposeAsync();
        }

        // The files went on in every process: a start after the last one's stop reports each VM lost right after
        // the last event the watchers saw.
        await using var restarted = await ChildServer.StartInAsync(_directory.FullName, Journal);
        var after = new Clients(restarted.SocketChannel());
        foreach (var (vm, seen) in vms)
        {
            var tail = await DoomedServerLoad.ReadToEndAsync(after, new WatchEventsRequest { Vm = vm.Name, VmUid = vm.Uid, StartSequence = seen[^1].Sequence + 1 });
            Assert.Equal([(seen[^1].Sequence + 1, Event.PayloadOneofCase.VmLost)], tail.Select(t => (t.Event.Sequence, t.Event.PayloadCase)));
        }
    }

    [Fact]
    public async Task Faults_resolved_while_a_handoff_happens_are_each_resolved_once_in_one_process_or_the_other()
    {
        var seed = Environment.TickCount;
        var server = await ChildServer.StartInAsync(_directory.FullName, Journal);
        using var channel = RunningServer.SocketChannelTo(server.SocketPath);
        var clients = new Clients(channel);
        var vm = await Scenario.VmWithMemoryAsync(clients, "r", FaultPolicy.Orchestrator, vcpus: 2, resolutionTimeout: Google.Protobuf.WellKnownTypes.Duration.FromTimeSpan(TimeSpan.FromMinutes(10)));
        for (uint vcpu = 0; vcpu < 2; vcpu++)
        {
            // 256 pages written with private intent, each a fault the resolver converts.
            var start = vcpu * 4 * Steps.MiB;
            var program = Steps.Program(Steps.Write(start, (byte)(0x40 + vcpu), AccessIntent.Private, Steps.MiB), Steps.Check(start, (byte)(0x40 + vcpu), AccessIntent.Private, Steps.MiB), Steps.Halt());
            await clients.Vcpus.LoadGuestProgramAsync(new LoadGuestProgramRequest { Name = $"{vm.Name}/vcpus/{vcpu}", Program = program }, cancellationToken: Ct);
        }

        var seen = new List<Event>();
        var outcomes = new Dictionary<ulong, List<string>>();
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        var resolver = Task.Run(() => FollowAsync(clients, vm, seen, stop.Token, onEvent: evt => ResolveAsync(clients, vm, evt, outcomes)), CancellationToken.None);
        for (uint vcpu = 0; vcpu < 2; vcpu++)
        {
            await clients.Vcpus.StartVcpuAsync(new StartVcpuRequest { Name = $"{vm.Name}/vcpus/{vcpu}" }, cancellationToken: Ct);
        }

        try
        {
            await DoomedServerLoad.WaitUntilAsync(() => Resolved(outcomes) > 50, seed);
            var next = await ChildServer.StartInAsync(_directory.FullName, Journal, TakeOver);
            Assert.Equal(0, await server.ExitCodeAsync());
            await server.DisposeAsync();
            server = next;
            await DoomedServerLoad.WaitUntilAsync(() => Halted(seen) == 2, seed);
        }
        finally
        {
            await stop.CancelAsync();
            await resolver;
            await server.DisposeAsync();
        }

        // Every fault: one resolution in the journal, and the resolver was told it landed (once) or, when its answer
        // was lost with the old process, that it was already resolved: never nothing, never twice.
        var faults = seen.Where(e => e.PayloadCase == Event.PayloadOneofCase.MemoryFault).Select(e => e.MemoryFault.FaultId).ToList();
        var resolutions = seen.Where(e => e.PayloadCase == Event.PayloadOneofCase.FaultResolved).Select(e => e.FaultResolved.FaultId).ToList();
        Assert.Equal(Enumerable.Range(1, 512).Select(i => (ulong)i), faults.Order());
        Assert.Equal(faults.Order(), resolutions.Order());
        Assert.Equal(Enumerable.Range(1, seen.Count).Select(i => (ulong)i), seen.Select(e => e.Sequence));
        Assert.All(outcomes, o => Assert.Equal("ok", o.Value[0]));
        Assert.All(outcomes, o => Assert.All(o.Value.Skip(1), later => Assert.Equal("FAULT_ALREADY_RESOLVED", later)));
        Assert.Equal(faults.Order(), outcomes.Keys.Order());
    }

    public void Dispose() => _directory.Delete(recursive: true);

    private static int Halted(List<Event> seen)
    {
        lock (seen)
        {
            return seen.Count(e => e.PayloadCase == Event.PayloadOneofCase.VcpuStateChanged && e.VcpuStateChanged.State == VcpuState.Halted);
        }
    }

    private static int Resolved(Dictionary<ulong, List<string>> outcomes)
    {
        lock (outcomes)
        {
            return outcomes.Count;
        }
    }

    // Resolves a memory fault, sending the call again while the server is being replaced.
    private static async Task ResolveAsync(Clients clients, Vm vm, Event evt, Dictionary<ulong, List<string>> outcomes)
    {
        if (evt.PayloadCase != Event.PayloadOneofCase.MemoryFault)
        {
            return;
        }

        var id = evt.MemoryFault.FaultId;
        while (true)
        {
            string outcome;
            try
            {
                await clients.Events.ResolveFaultAsync(new ResolveFaultRequest { Vm = vm.Name, VmUid = vm.Uid, FaultId = id, Action = FaultAction.Convert }, cancellationToken: Ct);
                outcome = "ok";
            }
            catch (RpcException e) when (e.StatusCode == StatusCode.Unavailable)
            {
                await Task.Delay(5, Ct);
                continue;
            }
            catch (RpcException e)
            {
                outcome = RpcError.From(e).Info.Reason;
            }

            lock (outcomes)
            {
                if (!outcomes.TryGetValue(id, out var list))
                {
                    outcomes[id] = list = [];
                }

                list.Add(outcome);
            }

            return;
        }
    }

    private static int Count(List<Event> seen)
    {
        lock (seen)
        {
            return seen.Count;
        }
    }

    // Watches from after the last event seen, again after every broken stream (a handoff), until stopped or until
    // the event at sequence `until` is in.
    private static async Task FollowAsync(Clients clients, Vm vm, List<Event> seen, CancellationToken stop, ulong until = 0, Func<Event, Task>? onEvent = null)
    {
        while (!stop.IsCancellationRequested)
        {
            ulong from;
            lock (seen)
            {
                from = seen.Count == 0 ? 1 : seen[^1].Sequence + 1;
            }

            if (until != 0 && from > until)
            {
                return;
            }

            try
            {
                using var call = clients.Events.WatchEvents(new WatchEventsRequest { Vm = vm.Name, VmUid = vm.Uid, StartSequence = from }, cancellationToken: stop);
                while (await call.ResponseStream.MoveNext(stop))
                {
                    lock (seen)
                    {
                        seen.Add(call.ResponseStream.Current.Event);
                    }

                    if (onEvent is not null)
                    {
                        await onEvent(call.ResponseStream.Current.Event);
                    }

                    if (until != 0 && call.ResponseStream.Current.Event.Sequence >= until)
                    {
                        return;
                    }
                }
            }
            catch (RpcException e) when (e.StatusCode == StatusCode.Unavailable)
            {
                // The server is being replaced: the next one serves on the same socket moments later.
                await Task.Delay(5, CancellationToken.None);
            }
            catch (Exception e) when ((e is RpcException or OperationCanceledException) && stop.IsCancellationRequested)
            {
                return;
            }
        }
    }

    // Each vCPU of the VM writes its 4 MiB with private, then shared, intent, 6 times (AUTO: a fault, a conversion
    // and a resolution a page): 18,432 events a vCPU, which watchers keep up with inside the journal's retention.
    private static async Task StartFaultingAsync(Clients clients, string vm)
    {
        for (uint vcpu = 0; vcpu < 2; vcpu++)
        {
            var start = vcpu * 4 * Steps.MiB;
            var passes = Enumerable.Range(0, 6).Select(i => Steps.Write(start, (byte)(i + 1), i % 2 == 0 ? AccessIntent.Private : AccessIntent.Shared, 4 * Steps.MiB));
            var name = $"{vm}/vcpus/{vcpu}";
            await clients.Vcpus.LoadGuestProgramAsync(new LoadGuestProgramRequest { Name = name, Program = Steps.Program([.. passes, Steps.Check(start, 6, AccessIntent.Shared, 4 * Steps.MiB), Steps.Halt()]) }, cancellationToken: Ct);
            await clients.Vcpus.StartVcpuAsync(new StartVcpuRequest { Name = name }, cancellationToken: Ct);
        }
    }

    // Pauses a vCPU still running its program; one that has halted (its checks passed) stays so.
    private static async Task StopAsync(Clients clients, string vcpu)
    {
        try
        {
            await clients.Vcpus.PauseVcpuAsync(new() { Name = vcpu }, cancellationToken: Ct);
        }
        catch (RpcException e) when (e.StatusCode == StatusCode.FailedPrecondition)
        {
            // It halted first.
        }

        using var patience = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        patience.CancelAfter(Watcher.Patience);
        while ((await clients.Vcpus.GetVcpuAsync(new() { Name = vcpu }, cancellationToken: patience.Token)).Vcpu.State is not (VcpuState.Paused or VcpuState.Halted) and var state)
        {
            Assert.NotEqual(VcpuState.Failed, state);
            await Task.Delay(2, patience.Token);
        }
    }

    private static async Task ConvertAsync(Clients clients, string vm, List<long> done, CancellationToken stop)
    {
        for (var i = 0; !stop.IsCancellationRequested; i++)
        {
            try
            {
                var target = i % 2 == 0 ? MemoryVisibility.Private : MemoryVisibility.Shared;
                await clients.Memory.ConvertMemoryAsync(new() { Vm = vm, Gpa = 40 * Steps.MiB, Size = Steps.Page, Target = target }, cancellationToken: stop);
                lock (done)
                {
                    done.Add(i);
                }
            }
            catch (RpcException e) when (e.StatusCode == StatusCode.Unavailable)
            {
                await Task.Delay(5, CancellationToken.None);
            }
            catch (Exception e) when ((e is RpcException or OperationCanceledException) && stop.IsCancellationRequested)
            {
                return;
            }
        }
    }
}
