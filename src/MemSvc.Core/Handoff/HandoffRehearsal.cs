using System.Diagnostics;
using System.Runtime;
using MemSvc.Core.Backends;
using MemSvc.Core.Events;
using MemSvc.Core.Faults;
using MemSvc.Core.Identity;
using MemSvc.Core.Memory;
using MemSvc.Core.Options;
using MemSvc.Core.Telemetry;
using MemSvc.Core.Vms;
using MemSvc.Hypervisor;
using MemSvc.Hypervisor.Simulated;

namespace MemSvc.Core.Handoff;

/// <summary>
/// A whole planned handoff played once on a scratch VM, between two scratch managers of this process: the journal
/// copied ahead, then a vCPU that waits on an ORCHESTRATOR fault is frozen, its VM serialized, adopted, thawed and
/// resolved, and it runs to its report. A process that is about to hand off or take over runs this beforehand, so that the code between the
/// freeze and the thaw (the JSON serializer, export, adoption, the run loop after it) is compiled when the real
/// handoff comes, and the vCPUs are not paused while the JIT works: cold, that code took 0.3-0.5 s of each pause.
/// The scratch managers log nothing and record no metric or span (<see cref="Rehearsal"/>).
/// </summary>
public static class HandoffRehearsal
{
    private const string VmId = "handoff-rehearsal";
    private const ulong Page = 4096;

    // Idle VMs beside the one that faults, each with a slot and a written page: the code run once per VM (export,
    // the serializer's per-VM parts, adoption) is called past tiered compilation's 30 calls in one play and reaches
    // its optimized tier in the plays after it, as it would not with one VM a play. At tier 0 it ran 3-5x slower
    // in the pause of a 100-VM handoff.
    private const int IdleVms = 31;
    private static readonly CallerIdentity Caller = new("memsvc-handoff-rehearsal");
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Plays the handoff, and <paramref name="alongside"/> (the host's own part of it); returns how long it took.
    /// Throws what a real handoff would have thrown.
    /// </summary>
    public static TimeSpan Run(Action? alongside = null)
    {
        var started = Stopwatch.GetTimestamp();
        Rehearsal.Run(PlayAsync);
        alongside?.Invoke();
        return Stopwatch.GetElapsedTime(started);
    }

    /// <summary>
    /// Plays the handoff again and again until the JIT has compiled nothing for <paramref name="quietFor"/> (the hot
    /// code is then at its optimized tier too) or <paramref name="atMost"/> has passed; returns how many plays and the
    /// time they took.
    /// </summary>
    public static (int Plays, TimeSpan Took) RunUntilCompiled(TimeSpan quietFor, TimeSpan atMost, Action? alongside = null)
    {
        var started = Stopwatch.GetTimestamp();
        var compiled = JitInfo.GetCompiledMethodCount();
        var quietSince = started;
        var plays = 0;
        while (Stopwatch.GetElapsedTime(started) < atMost && Stopwatch.GetElapsedTime(quietSince) < quietFor)
        {
            Rehearsal.Run(PlayAsync);
            alongside?.Invoke();
            plays++;
            var now = JitInfo.GetCompiledMethodCount();
            if (now != compiled)
            {
                compiled = now;
                quietSince = Stopwatch.GetTimestamp();
            }
        }

        return (plays, Stopwatch.GetElapsedTime(started));
    }

    private static async Task PlayAsync()
    {
        using var timeout = new CancellationTokenSource(Patience);
        await using var old = Scratch();
        Prepare(old);
        old.Vcpus.StartVcpu(Caller, VmId, 0);
        var fault = await UntilAsync(old, 1, e => e.Payload is EventPayload.MemoryFault, timeout.Token).ConfigureAwait(false);
        var copy = old.CopyJournalsForHandoff();
        var copied = CopiedJournals.Read(copy.Serialized);
        var (state, _) = old.FreezeForHandoff(Patience, copied: copy);

        await using var next = Scratch();
        next.AdoptHandoff(state, copied: copied);
        next.ThawVcpus();
        next.Events.ResolveFault(Caller, VmId, ((EventPayload.MemoryFault)fault.Payload).FaultId, FaultAction.Convert);
        await UntilAsync(next, fault.Sequence + 1, e => e.Payload is EventPayload.GuestReport, timeout.Token).ConfigureAwait(false);
    }

    private static VmManager Scratch() => new(
        new BackendCatalog(new Dictionary<string, IHypervisor> { ["simulated"] = new SimulatedHypervisor() }, "simulated"),
        new CoreOptions { JournalCapacity = 64 });

    // A private page that the program writes as shared: an ORCHESTRATOR fault that waits. Once converted, the program
    // checks what it wrote, reports and halts.
    private static void Prepare(VmManager manager)
    {
        manager.Vms.CreateVm(Caller, new CreateVmRequest { VmId = VmId, VmType = VmType.SwProtected, VcpuCount = 1, FaultPolicy = FaultPolicy.Orchestrator });
        var memfd = manager.GuestMemfds.CreateGuestMemfd(Caller, VmId, 64 * Page, GuestMemfdFlags.None);
        manager.MemoryRegions.SetMemoryRegion(Caller, VmId, new SetMemoryRegionRequest { Slot = 0, Gpa = 0, Size = 64 * Page, Flags = MemoryRegionFlags.GuestMemfd, GuestMemfdId = memfd.Id, GuestMemfdOffset = 0 });
        manager.Memory.SetMemoryAttributes(Caller, VmId, 0, Page, MemoryAttributes.Private);
        manager.Memory.WriteGuestMemory(Caller, VmId, Page, new byte[Page]);
        manager.Vcpus.LoadGuestProgram(Caller, VmId, 0, new GuestProgram(
        [
            new GuestStep.WritePattern(0, Page, 0x5a, AccessIntent.Shared),
            new GuestStep.CheckPattern(0, Page, 0x5a, AccessIntent.Shared),
            new GuestStep.Report(1),
            new GuestStep.Halt(),
        ]));

        var written = new byte[Page];
        for (var i = 0; i < written.Length; i++)
        {
            written[i] = (byte)i;
        }

        for (var i = 0; i < IdleVms; i++)
        {
            var id = $"{VmId}-idle-{i}";
            manager.Vms.CreateVm(Caller, new CreateVmRequest { VmId = id, VmType = VmType.SwProtected, VcpuCount = 1, FaultPolicy = FaultPolicy.Orchestrator });
            var file = manager.GuestMemfds.CreateGuestMemfd(Caller, id, 4 * Page, GuestMemfdFlags.None);
            manager.MemoryRegions.SetMemoryRegion(Caller, id, new SetMemoryRegionRequest { Slot = 0, Gpa = 0, Size = 4 * Page, Flags = MemoryRegionFlags.GuestMemfd, GuestMemfdId = file.Id, GuestMemfdOffset = 0 });
            manager.Memory.SetMemoryAttributes(Caller, id, 0, Page, MemoryAttributes.Private);
            manager.Memory.WriteGuestMemory(Caller, id, Page, written);
        }
    }

    private static async Task<VmEvent> UntilAsync(VmManager manager, ulong from, Func<VmEvent, bool> wanted, CancellationToken cancellationToken)
    {
        await foreach (var e in manager.Events.WatchEvents(Caller, VmId, from, cancellationToken: cancellationToken).ConfigureAwait(false))
        {
            if (wanted(e))
            {
                return e;
            }
        }

        throw new InvalidOperationException("the rehearsal's VM stopped before the event it waited for");
    }
}
