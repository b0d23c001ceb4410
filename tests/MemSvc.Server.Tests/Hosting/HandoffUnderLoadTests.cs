using Grpc.Core;
using MemSvc.Contracts.V1;
using MemSvc.Server.Tests.Infrastructure;
using static MemSvc.Server.Tests.Infrastructure.HandoffLoad;

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
        Assert.All(outcomes, o => Assert.Contains(Assert.Single(o.Value), (string[])["ok", "FAULT_ALREADY_RESOLVED"]));
        Assert.Equal(faults.Order(), outcomes.Keys.Order());
    }

    public void Dispose() => _directory.Delete(recursive: true);
}
