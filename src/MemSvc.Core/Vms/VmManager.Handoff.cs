using System.Runtime.InteropServices;
using MemSvc.Core.Handoff;
using MemSvc.Core.Logging;
using MemSvc.Hypervisor;
using MemSvc.Hypervisor.Simulated;
using MemSvc.Hypervisor.Simulated.Handoff;

namespace MemSvc.Core.Vms;

/// <summary>
/// Issue 16's planned handoff, Core's part. The old process freezes every vCPU (<see cref="FreezeForHandoff"/>) and
/// hands the serialized state to the new one, which adopts it (<see cref="AdoptHandoff"/>) and thaws the vCPUs
/// (<see cref="ThawVcpus"/>) once the old one is gone; an old process whose handoff is called off thaws its own.
/// The server makes sure no call runs meanwhile.
/// </summary>
public sealed partial class VmManager
{
    /// <summary>The newest version of the handoff this build speaks; the handoff's hello exchanges it first.</summary>
    public static int HandoffVersion => HandoffCodec.Version;

    /// <summary>The oldest version of the handoff this build still speaks (to the release before it).</summary>
    public static int OldestHandoffVersion => HandoffCodec.OldestVersion;

    /// <summary>Whether this build writes and reads handoff <paramref name="version"/>.</summary>
    public static bool SpeaksHandoff(int version) => HandoffCodec.Speaks(version);

    /// <summary>Why this process cannot hand its VMs off, or null when it can.</summary>
    public string? WhyNoHandoff()
    {
        var vms = _context.Registry.All();
        var other = vms.Where(vm => vm.Vm is not (SimulatedVm or Hypervisor.Kvm.KvmVm)).Select(vm => $"'{vm.Id}' ({vm.Settings.Backend})").ToList();
        if (other.Count > 0)
        {
            return $"VMs on a backend that cannot be handed off yet: {string.Join(", ", other)}; delete them or restart instead";
        }

        var kvm = vms.Select(vm => vm.WhyNoHandoff() is { } why ? $"vm '{vm.Id}' of owner '{vm.Owner}': {why}" : null).OfType<string>().ToList();
        return kvm.Count == 0 ? null : $"{string.Join("; ", kvm)}; delete such VMs or restart instead";
    }

    /// <summary>
    /// A handoff's first step (version 3), while every VM runs: every journal's held events, copied, so that the new
    /// process reads them before anything freezes and the frozen state (<see cref="FreezeForHandoff"/>) carries only
    /// the events appended since.
    /// </summary>
    public JournalCopy CopyJournalsForHandoff(int? version = null)
    {
        var vms = _context.Registry.All();
        var copies = vms.Select(vm => vm.CopyJournal()).ToList();
        var ahead = (version ?? HandoffCodec.Version) >= 4;
        var programs = ahead ? vms.SelectMany(vm => vm.LoadedPrograms().Select(p => (Key: (vm.Uid, p.Vcpu), p.Program))).ToDictionary(p => p.Key, p => p.Program) : [];
        var contents = ahead ? vms.SelectMany(vm => vm.ContentsSnapshots().Select(c => (Key: (vm.Uid, c.Key), c.Contents))).ToDictionary(c => c.Key, c => c.Contents) : [];
        var state = new JournalsHandoffState(
            [.. copies.Select(c => c.Journal)],
            ahead ? [.. programs.Select(p => new ProgramHandoffState(p.Key.Uid, p.Key.Vcpu, GuestStepStates.From(p.Value)))] : null,
            ahead ? [.. contents.Select(c => new ContentsHandoffState(c.Key.Uid, c.Key.Key, c.Value.Contents))] : null);
        return new JournalCopy(
            HandoffCodec.EncodeJournals(state),
            copies.ToDictionary(c => c.Journal.Uid, c => c.Through, StringComparer.Ordinal),
            programs,
            contents);
    }

    /// <summary>
    /// Stops every vCPU at a step boundary (a vCPU waiting on a fault stays waiting; its fault stays pending) and
    /// returns the whole state, serialized, and how many VMs it holds. The descriptors that carry kvm VMs' memory,
    /// which the state indexes, are appended to <paramref name="descriptors"/> (the caller passes and closes them);
    /// without a list, a kvm VM refuses the handoff. <paramref name="version"/> is the form the new process reads
    /// (<see cref="HandoffVersion"/> when null); with <paramref name="copied"/> (version 3), a journal carries only
    /// the events after that copy. On failure every vCPU runs again and nothing changed.
    /// </summary>
    public (byte[] State, int VmCount) FreezeForHandoff(TimeSpan vcpuStopTimeout, IList<SafeHandle>? descriptors = null, int? version = null, JournalCopy? copied = null)
    {
        var form = version ?? HandoffCodec.Version;
        if (!HandoffCodec.Speaks(form))
        {
            throw new ArgumentOutOfRangeException(nameof(version), form, $"this build writes handoff versions {HandoffCodec.OldestVersion} to {HandoffCodec.Version}");
        }

        if (WhyNoHandoff() is { } why)
        {
            throw new HandoffRefusedException(why);
        }

        var vms = _context.Registry.All();
        var time = _context.Options.TimeProvider;
        try
        {
            foreach (var vm in vms)
            {
                vm.Faults.Frozen = true;
            }

            // Every vCPU is told first, then waited for: they stop together, each at the end of its step, instead of one
            // after another with every earlier one paused while the next finishes its step. The pause counts from the
            // first one's stop, as its thread read the clock leaving, not from before the first was told.
            var stopping = vms.SelectMany(vm => vm.Vcpus).Where(vcpu => vcpu.RequestFreeze()).ToList();
            foreach (var vcpu in stopping)
            {
                if (!vcpu.AwaitFrozen(vcpuStopTimeout))
                {
                    throw new HandoffRefusedException($"a vCPU did not stop within {vcpuStopTimeout.TotalSeconds} s");
                }
            }

            var frozenAt = stopping.Select(vcpu => vcpu.FrozenAt).Min() ?? time.GetUtcNow();

            if (descriptors is null && vms.Any(vm => vm.Vm is Hypervisor.Kvm.KvmVm))
            {
                throw new HandoffRefusedException("kvm VMs move with descriptors, and this handoff passes none");
            }

            var passed = descriptors ?? [];
            var state = new HandoffState(form, _context.Options.TimeProvider.GetUtcNow(), [.. vms.Select(vm => vm.Export(passed, copied?.Through.GetValueOrDefault(vm.Uid) ?? 0, form >= 4 ? copied?.SentAheadOf(vm.Uid) : null))], form >= 3 ? frozenAt : null);
            return (HandoffCodec.Encode(state), state.Vms.Count);
        }
        catch (HandoffRefusedException)
        {
            ReleaseDescriptors(descriptors);
            ThawVcpus();
            throw;
        }
        catch (Exception e) when (e is IOException or InvalidOperationException or ArgumentException or OutOfMemoryException or NotSupportedException or HypervisorException)
        {
            ReleaseDescriptors(descriptors);
            // A state that cannot be taken or serialized (a file that cannot be written, more than 2 GiB of it): the
            // server must learn why and serve on, not fail.
            ThawVcpus();
            throw new HandoffRefusedException($"the state could not be taken: {e.Message}", e);
        }
    }

    /// <summary>
    /// Takes the VMs another process handed off (before this one serves any call): all of them, or none and
    /// <see cref="HandoffRefusedException"/> saying why. Their vCPUs wait for <see cref="ThawVcpus"/>.
    /// </summary>
    public HandoffAdoption AdoptHandoff(ReadOnlySpan<byte> serialized, IReadOnlyList<SafeHandle>? descriptors = null, CopiedJournals? copied = null)
    {
        HandoffState state;
        try
        {
            state = HandoffCodec.Decode(serialized);
        }
        catch (InvalidDataException e)
        {
            throw new HandoffRefusedException(e.Message, e);
        }

        var hypervisors = new Dictionary<string, IHypervisor>(StringComparer.Ordinal);
        foreach (var name in state.Vms.Select(vm => vm.BackendName).Distinct(StringComparer.Ordinal))
        {
            hypervisors[name] = ResolveBackend(name) ?? throw new HandoffRefusedException($"this server has no {name} backend of its own to adopt {name} VMs into");
        }

        var sinceTaken = _context.Options.TimeProvider.GetUtcNow() - state.TakenAt;
        var adopted = new List<ManagedVm>();
        try
        {
            foreach (var vmState in state.Vms)
            {
                var vm = ManagedVm.Adopt(_context, vmState, hypervisors[vmState.BackendName], descriptors ?? [], sinceTaken, copied);
                adopted.Add(vm);
                _context.Registry.AddAdopted(vm);
            }
        }
        catch (Exception e) when (e is not HandoffRefusedException)
        {
            foreach (var vm in adopted)
            {
                _context.Registry.RemoveAdopted(vm);
                vm.Shutdown(_context.Options.VcpuStopTimeout);
                vm.Journal.CloseFile(null);
            }

            throw new HandoffRefusedException($"the handed-off state cannot be adopted: {e.Message}", e);
        }

        var pending = adopted.Sum(vm => vm.Faults.PendingCount);
        CoreLog.HandoffAdopted(_context.Logger, adopted.Count, pending);
        return new HandoffAdoption(state.Version, adopted.Count, pending, state.FrozenAt);
    }

    private IHypervisor? ResolveBackend(string name)
    {
        try
        {
            return _context.Backends.Resolve(name).Hypervisor;
        }
        catch (Errors.CoreException)
        {
            return null;
        }
    }

    /// <summary>
    /// Gives up VMs <see cref="AdoptHandoff"/> took when the takeover fails after it: they are removed and stopped
    /// without a word to their journal files, which the process that handed them off may still be writing.
    /// </summary>
    public void AbandonAdoption()
    {
        foreach (var vm in _context.Registry.All())
        {
            _context.Registry.RemoveAdopted(vm);
            vm.Shutdown(_context.Options.VcpuStopTimeout);
            vm.Journal.CloseFile(null);
        }
    }

    /// <summary>
    /// The old side's last step, once the new process has adopted every VM and this one only exits: the journal
    /// directory's lock goes, so that the new process takes it (<see cref="CompleteTakeover"/>) without waiting for
    /// this one's exit. Nothing here writes a journal file again: every VM is frozen and the server admits no call.
    /// </summary>
    public void ReleaseJournalDirectory() => _context.Journals?.Unlock();

    /// <summary>
    /// The end of a takeover (<see cref="Options.CoreOptions.TakingOver"/>), once the process that handed off has
    /// let go of the journal directory (<see cref="ReleaseJournalDirectory"/>) or exited: the journal directory's lock, and the lost VMs of earlier processes read back from their files (the
    /// adopted VMs' files are theirs already).
    /// </summary>
    public void CompleteTakeover()
    {
        if (_context.Journals is { } journals)
        {
            journals.Lock();
            JournalRecovery.Run(_context, journals, _context.Registry.All().Select(vm => vm.Uid).ToHashSet(StringComparer.Ordinal));
        }
    }

    private static void ReleaseDescriptors(IList<SafeHandle>? descriptors)
    {
        foreach (var descriptor in descriptors ?? [])
        {
            descriptor.Dispose();
        }

        descriptors?.Clear();
    }

    /// <summary>Every frozen or adopted vCPU that was running or waiting runs (or waits) again.</summary>
    public void ThawVcpus()
    {
        foreach (var vm in _context.Registry.All())
        {
            vm.Faults.Frozen = false;
            foreach (var vcpu in vm.Vcpus)
            {
                vcpu.Thaw();
            }
        }
    }
}
