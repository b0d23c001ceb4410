using System.Diagnostics;
using MemSvc.Contracts.V1;
using MemSvc.Server.Tests.Infrastructure;
using static MemSvc.Server.Tests.Infrastructure.Steps;

namespace MemSvc.Server.Tests.Hosting;

/// <summary>
/// Issue 16's soak: 20 ORCHESTRATOR VMs with vCPUs running guest programs that fault, 4 watchers that follow and
/// resolve them, and a handoff to a new server process every few seconds (5 here; MEMSVC_HANDOFF_SOAK=long for the
/// issue's 50): every program finishes with its checks passing, every fault is resolved exactly once, and each
/// watcher sees every event of its VMs exactly once.
/// </summary>
public sealed class HandoffSoakTests(ITestOutputHelper output) : IDisposable
{
    private static readonly (string Key, string Value) TakeOver = ("MemSvc:Handoff:TakeOver", "true");
    private static readonly TimeSpan MaxBetweenHandoffs = TimeSpan.FromSeconds(3);

    private readonly DirectoryInfo _directory = Directory.CreateTempSubdirectory("memsvc-soak-");

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private (string Key, string Value) Journal => ("MemSvc:Journal:Directory", Path.Combine(_directory.FullName, "journal"));

    [Fact]
    public async Task Programs_finish_faults_are_resolved_once_and_watchers_see_every_event_once_across_repeated_handoffs()
    {
        var soak = new HandoffSoak(HandoffSoak.HandoffsFromEnvironment());
        var took = Stopwatch.StartNew();
        var server = await ChildServer.StartInAsync(_directory.FullName, Journal);
        var handoffTimes = new List<TimeSpan>();
        try
        {
            using var channel = RunningServer.SocketChannelTo(server.SocketPath);
            var clients = new Clients(channel);
            await soak.CreateAsync(clients);
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(Ct);
            var watcherChannels = Enumerable.Range(0, HandoffSoak.Watchers).Select(_ => RunningServer.SocketChannelTo(server.SocketPath)).ToList();
            var watchers = Enumerable.Range(0, HandoffSoak.Watchers).SelectMany(w => soak.Follow(w, new Clients(watcherChannels[w]), stop.Token)).ToList();
            try
            {
                foreach (var vm in soak.Fleet)
                {
                    await clients.Vcpus.StartVcpuAsync(new() { Name = vm.Vm.Name + "/vcpus/0" }, cancellationToken: Ct);
                }

                for (var handoff = 0; handoff < soak.Handoffs; handoff++)
                {
                    // Every few seconds, or once half the VMs wait on a fault their resolver holds back.
                    var since = Stopwatch.StartNew();
                    while (since.Elapsed < MaxBetweenHandoffs && soak.AtQuota() < HandoffSoak.Vms / 2)
                    {
                        await Task.Delay(20, Ct);
                    }

                    Assert.Equal(0, soak.Halted());
                    var switching = Stopwatch.StartNew();
                    var next = await ChildServer.StartInAsync(_directory.FullName, Journal, TakeOver);
                    Assert.Equal(0, await server.ExitCodeAsync());
                    handoffTimes.Add(switching.Elapsed);
                    await server.DisposeAsync();
                    server = next;
                    soak.Advance();
                }

                await DoomedServerLoad.WaitUntilAsync(() => soak.Halted() == HandoffSoak.Vms, soak.Handoffs);
            }
            finally
            {
                await stop.CancelAsync();
                await Task.WhenAll(watchers);
                watcherChannels.ForEach(c => c.Dispose());
            }

            foreach (var vm in soak.Fleet)
            {
                await CheckAsync(clients, soak, vm);
            }
        }
        finally
        {
            await server.DisposeAsync();
        }

        output.WriteLine($"{soak.Handoffs} handoffs of {HandoffSoak.Vms} VMs ({soak.FaultsPerVm} faults each) in {took.Elapsed.TotalSeconds:0.0} s; new process start to old exit: {string.Join(", ", handoffTimes.Select(t => t.TotalSeconds.ToString("0.00", System.Globalization.CultureInfo.InvariantCulture)))} s");
    }

    private static async Task CheckAsync(Clients clients, HandoffSoak soak, SoakVm vm)
    {
        var because = $"vm {vm.Vm.Name}";
        var last = (await clients.Vms.GetVmAsync(new() { Name = vm.Vm.Name }, cancellationToken: Ct)).Vm.LastEventSequence;
        var seen = vm.Seen;

        // The program ran to its end, through every check, and wrote the last pass's pattern.
        Assert.Equal(VcpuState.Halted, (await clients.Vcpus.GetVcpuAsync(new() { Name = vm.Vm.Name + "/vcpus/0" }, cancellationToken: Ct)).Vcpu.State);
        Assert.Equal([HandoffSoak.Done(vm.Index)], seen.Where(e => e.PayloadCase == Event.PayloadOneofCase.GuestReport).Select(e => e.GuestReport.Value));
        Assert.DoesNotContain(seen, e => e.PayloadCase == Event.PayloadOneofCase.VcpuStateChanged && e.VcpuStateChanged.State == VcpuState.Failed);
        var lastPass = soak.Passes - 1;
        Assert.Equal(AccessIntent.Shared, HandoffSoak.Intent(lastPass));
        var memory = await clients.Memory.ReadGuestMemoryAsync(new() { Vm = vm.Vm.Name, Gpa = HandoffSoak.Base(vm.Index), Size = HandoffSoak.PagesPerPass * Page }, cancellationToken: Ct);
        Assert.All(memory.Data.ToByteArray(), b => Assert.Equal(HandoffSoak.Pattern(lastPass), b));

        // Every event once, in order, exactly as the journal holds it.
        Assert.Equal(Enumerable.Range(1, (int)last).Select(s => (ulong)s), seen.Select(e => e.Sequence));
        Assert.Equal(await HandoffSoak.JournalAsync(clients, vm.Vm, last), seen);
        Assert.DoesNotContain(seen, e => e.PayloadCase == Event.PayloadOneofCase.VmLost);

        // Every fault raised once and resolved once, and its resolver told once that it landed (or, when the answer
        // was lost with the old process, that it had).
        var faults = seen.Where(e => e.PayloadCase == Event.PayloadOneofCase.MemoryFault).Select(e => e.MemoryFault.FaultId).ToList();
        var resolutions = seen.Where(e => e.PayloadCase == Event.PayloadOneofCase.FaultResolved).Select(e => e.FaultResolved.FaultId).ToList();
        Assert.Equal(Enumerable.Range(1, soak.FaultsPerVm).Select(i => (ulong)i), faults);
        Assert.Equal(faults, resolutions);
        Assert.Equal(faults, vm.Outcomes.Keys.Order());
        Assert.All(vm.Outcomes, o => Assert.Contains(Assert.Single(o.Value), (string[])["ok", "FAULT_ALREADY_RESOLVED"]));
        Assert.True(vm.Resolved == soak.FaultsPerVm, because);
    }

    public void Dispose() => _directory.Delete(recursive: true);
}
