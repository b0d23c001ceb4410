using System.Globalization;
using Grpc.Core;
using MemSvc.Contracts.V1;
using static MemSvc.Server.Tests.Infrastructure.Steps;

namespace MemSvc.Server.Tests.Infrastructure;

/// <summary>
/// The fleet of the handoff soak: ORCHESTRATOR VMs whose one vCPU writes a few pages with private, then shared intent,
/// over and over, each pass checked (every page written faults once a pass), and watchers that follow each VM's
/// journal across the handoffs and resolve its faults. The resolvers pace the programs by the handoffs: in epoch e
/// (after e handoffs) a VM gets at most (e + 1) × <see cref="FaultsPerEpoch"/> faults resolved, so that every
/// handoff finds the programs mid-way, some running and some waiting on a pending fault, and none has finished
/// before the last one; after the last handoff they run to their end.
/// </summary>
public sealed class HandoffSoak(int handoffs)
{
    public const int Vms = 20;
    public const int Watchers = 4;
    public const int PagesPerPass = 24;

    /// <summary>A private pass and a shared one: 2 steps each, within a program's 256 steps for up to 62 handoffs.</summary>
    public const int FaultsPerEpoch = 2 * PagesPerPass;

    private readonly object _epochLock = new();
    private TaskCompletionSource _nextEpoch = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public int Handoffs { get; } = handoffs;

    /// <summary>Faults each VM's program raises: one per page per pass.</summary>
    public int FaultsPerVm => FaultsPerEpoch * (Handoffs + 1);

    public int Passes => FaultsPerVm / PagesPerPass;

    public int Epoch { get; private set; }

    public List<SoakVm> Fleet { get; } = [];

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>The handoff count: MEMSVC_HANDOFF_SOAK=long for the 50, a number for that many, else 5.</summary>
    public static int HandoffsFromEnvironment()
    {
        var text = Environment.GetEnvironmentVariable("MEMSVC_HANDOFF_SOAK");
        if (string.IsNullOrEmpty(text))
        {
            return 5;
        }

        var count = text == "long" ? 50 : int.Parse(text, CultureInfo.InvariantCulture);
        return count is > 0 and <= 62 ? count : throw new InvalidOperationException($"MEMSVC_HANDOFF_SOAK={text}: 'long' or 1 to 62 handoffs");
    }

    public static byte Pattern(int pass) => (byte)((pass % 251) + 1);

    public static AccessIntent Intent(int pass) => pass % 2 == 0 ? AccessIntent.Private : AccessIntent.Shared;

    public static uint Done(int vm) => 0x600d0000u + (uint)vm;

    public async Task CreateAsync(Clients clients)
    {
        for (var i = 0; i < Vms; i++)
        {
            var vm = await Scenario.VmWithMemoryAsync(clients, $"soak-{i:00}", FaultPolicy.Orchestrator, resolutionTimeout: Google.Protobuf.WellKnownTypes.Duration.FromTimeSpan(TimeSpan.FromMinutes(30)));
            Fleet.Add(new SoakVm(i, vm));
            var passes = Enumerable.Range(0, Passes).SelectMany(p => new[]
            {
                Write(Base(i), Pattern(p), Intent(p), PagesPerPass * Page),
                Check(Base(i), Pattern(p), Intent(p), PagesPerPass * Page),
            });
            await clients.Vcpus.LoadGuestProgramAsync(new() { Name = vm.Name + "/vcpus/0", Program = Program([.. passes, Report(Done(i)), Halt()]) }, cancellationToken: Ct);
        }
    }

    /// <summary>Where VM <paramref name="vm"/>'s program writes: a different place in each, within slot 0.</summary>
    public static ulong Base(int vm) => (ulong)vm * MiB;

    /// <summary>Watcher <paramref name="watcher"/> follows and resolves every <see cref="Watchers"/>th VM, over its own channel.</summary>
    public IEnumerable<Task> Follow(int watcher, Clients clients, CancellationToken stop) =>
        Fleet.Where(v => v.Index % Watchers == watcher)
            .Select(v => Task.Run(() => HandoffLoad.FollowAsync(clients, v.Vm, v.Seen, stop, onEvent: evt => ResolvePacedAsync(clients, v, evt)), CancellationToken.None));

    /// <summary>Opens the next epoch: a handoff has happened.</summary>
    public void Advance()
    {
        TaskCompletionSource opened;
        lock (_epochLock)
        {
            Epoch++;
            opened = _nextEpoch;
            _nextEpoch = new(TaskCreationOptions.RunContinuationsAsynchronously);
        }

        opened.SetResult();
    }

    /// <summary>How many VMs have used up their faults for this epoch (each waits on a pending fault).</summary>
    public int AtQuota()
    {
        var quota = (Epoch + 1) * FaultsPerEpoch;
        return Fleet.Count(v => v.Resolved >= quota);
    }

    public int Halted() => Fleet.Count(v => HandoffLoad.Halted(v.Seen) > 0);

    private async Task ResolvePacedAsync(Clients clients, SoakVm vm, Event evt)
    {
        if (evt.PayloadCase != Event.PayloadOneofCase.MemoryFault)
        {
            return;
        }

        while (true)
        {
            Task next;
            lock (_epochLock)
            {
                if (Epoch >= Handoffs || vm.Resolved < (Epoch + 1) * FaultsPerEpoch)
                {
                    break;
                }

                next = _nextEpoch.Task;
            }

            await next.WaitAsync(Ct);
        }

        await HandoffLoad.ResolveAsync(clients, vm.Vm, evt, vm.Outcomes);
        vm.CountResolved();
    }

    /// <summary>The VM's journal from its first event to <paramref name="last"/>, read in one stream.</summary>
    public static async Task<List<Event>> JournalAsync(Clients clients, Vm vm, ulong last)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        deadline.CancelAfter(Watcher.Patience);
        using var call = clients.Events.WatchEvents(new WatchEventsRequest { Vm = vm.Name, VmUid = vm.Uid, StartSequence = 1 }, cancellationToken: deadline.Token);
        var events = new List<Event>();
        while (events.Count == 0 || events[^1].Sequence < last)
        {
            Assert.True(await call.ResponseStream.MoveNext(deadline.Token));
            events.Add(call.ResponseStream.Current.Event);
        }

        return events;
    }
}

/// <summary>One VM of the soak: what its watcher saw, and how each of its faults' resolutions ended.</summary>
public sealed class SoakVm(int index, Vm vm)
{
    private int _resolved;

    /// <summary>Faults of this VM its resolver has had answered.</summary>
    public int Resolved => Volatile.Read(ref _resolved);

    public int Index { get; } = index;

    public Vm Vm { get; } = vm;

    public List<Event> Seen { get; } = [];

    public Dictionary<ulong, List<string>> Outcomes { get; } = [];

    public void CountResolved() => Interlocked.Increment(ref _resolved);
}
