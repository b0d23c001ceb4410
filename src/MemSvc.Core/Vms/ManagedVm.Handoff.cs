using System.Runtime.InteropServices;
using MemSvc.Core.Events;
using MemSvc.Core.Events.Files;
using MemSvc.Core.Handoff;
using MemSvc.Core.Vcpus;
using MemSvc.Hypervisor;
using MemSvc.Hypervisor.Kvm;
using MemSvc.Hypervisor.Kvm.Handoff;
using MemSvc.Hypervisor.Memory;
using MemSvc.Hypervisor.Simulated;
using MemSvc.Hypervisor.Simulated.Handoff;

namespace MemSvc.Core.Vms;

internal sealed partial class ManagedVm
{
    /// <summary>Why this VM cannot be handed off, or null (the simulated backend's always can; a kvm VM says).</summary>
    public string? WhyNoHandoff()
    {
        switch (Vm)
        {
            case SimulatedVm:
                return null;
            case KvmVm kvm:
                lock (Memory.Sync)
                {
                    return kvm.WhyNoHandoff(Memory.Memfds.Select(m => m.File));
                }

            default:
                return $"backend '{Settings.Backend}' cannot hand its VMs off";
        }
    }

    /// <summary>
    /// The VM as a planned handoff carries it; its vCPUs are frozen. A kvm VM's memory moves as descriptors, which
    /// are appended to <paramref name="descriptors"/> (the state indexes them); its VM and vCPU fds do not move
    /// (see <see cref="KvmVmState"/>): the next process makes the VM again.
    /// </summary>
    public VmHandoffState Export(IList<SafeHandle> descriptors, ulong copiedThrough = 0, SentAhead? sentAhead = null)
    {
        Hypervisor.Simulated.Handoff.SimulatedVmState? backend = null;
        KvmVmState? kvmState = null;
        (IReadOnlyList<MemfdHandoffState> Memfds, ulong NextMemfdId, IReadOnlyList<RegionHandoffState> Regions) memory;
        lock (Memory.Sync)
        {
            HashSet<ulong> moved;
            switch (Vm)
            {
                case SimulatedVm simulated:
                    backend = simulated.Export(Memory.Memfds.Select(m => m.File), sentAhead);
                    moved = backend.Files.Select(f => f.Inode).ToHashSet();
                    memory = Memory.Export(file => file is SimulatedGuestMemfd s && moved.Contains(s.Inode) ? s.Inode : null);
                    break;
                case KvmVm kvm:
                    kvmState = kvm.Export(Memory.Memfds.Select(m => m.File), descriptors);
                    moved = kvmState.Files.Select(f => f.Inode).ToHashSet();
                    memory = Memory.Export(file => file is KvmGuestMemfd k && moved.Contains(k.Inode) ? k.Inode : null);
                    break;
                default:
                    throw new HandoffRefusedException($"vm '{Id}' of owner '{Owner}' runs on backend '{Settings.Backend}', whose VMs cannot be handed off");
            }
        }

        var file = Journal.PersistForHandoff();
        var (events, next) = Journal.Held(after: copiedThrough);
        return new VmHandoffState(
            Id,
            Uid,
            Owner,
            Settings.Backend,
            Settings.VmType,
            FaultPolicy,
            ResolutionTimeout,
            TimeoutFallback,
            Settings.CreateTime,
            backend,
            kvmState,
            memory.Memfds,
            memory.NextMemfdId,
            memory.Regions,
            [.. _vcpus.Select(v => v.Export())],
            Faults.Export(Encode),
            next,
            [.. events.Select(Encode)],
            file);
    }

    /// <summary>
    /// Makes again, in this process, a VM another process handed off: the same id, uid, owner and settings, the
    /// backend VM as it was, its memory counted against the owner's quota, its journal continuing at the next
    /// sequence, its pending faults with their age plus <paramref name="sinceTaken"/>. Its vCPUs are not running:
    /// <see cref="VcpuRunner.Thaw"/> starts them.
    /// </summary>
    public static ManagedVm Adopt(CoreContext context, VmHandoffState state, IHypervisor hypervisor, IReadOnlyList<SafeHandle> descriptors, TimeSpan sinceTaken, CopiedJournals? copied = null)
    {
        var (backendVm, files, backendVcpus) = AdoptBackend(state, hypervisor, descriptors, copied);
        var settings = new VmSettings(state.VmId, state.Uid, state.Owner, state.BackendName, state.VmType, state.FaultPolicy, state.ResolutionTimeout, state.TimeoutFallback, state.CreateTime);
        var options = context.Options;
        var vm = new ManagedVm(settings, backendVm, context.Metrics, context.Logger, options.JournalCapacity, options.TimeProvider, context.Ledger, context.JournalBudgetOf(state.Owner));
        var bytes = 0UL;
        var (reserved, adopted) = (false, false);
        try
        {
            VmEvent Decode(byte[] bytes) => EventCodec.Read(bytes, state.VmId, state.Uid);
            IReadOnlyList<VmEvent> since = [.. state.Events.Select(Decode)];
            var (before, after) = copied?.Join(state.Uid, since, state.NextSequence) ?? ([], since);
            vm.Journal.Restore(before, after);
            if (vm.Journal.NextSequence != state.NextSequence)
            {
                throw new InvalidDataException($"vm '{state.VmId}': its journal continues at {vm.Journal.NextSequence}, not at {state.NextSequence}");
            }

            AttachJournalFile(context, vm, state);

            bytes = state.Memfds.Aggregate(0UL, (sum, m) => sum + files[m.Inode].Size)
                + state.Regions.Where(r => r.SharedBacking == MemSvc.Core.Memory.SharedBackingKind.Anonymous).Aggregate(0UL, (sum, r) => sum + r.Size);
            context.Ledger.Reserve(state.Owner, bytes, state.Memfds.Count);
            reserved = true;
            lock (vm.Memory.Sync)
            {
                vm.Memory.Adopt(state.Memfds, state.NextMemfdId, state.Regions, inode => files.TryGetValue(inode, out var file) ? file : throw new InvalidDataException($"vm '{state.VmId}': no guest_memfd of inode {inode}"));
                adopted = true;
            }

            var runners = new List<VcpuRunner>(backendVcpus.Count);
            foreach (var (backendVcpu, vcpuState) in backendVcpus.Zip(state.Vcpus))
            {
                var runner = new VcpuRunner(vm, backendVcpu);
                runner.Import(vcpuState);
                runners.Add(runner);
            }

            vm._vcpus = [.. runners];
            vm.Faults.Adopt(state.Faults, sinceTaken, Decode);
            foreach (var runner in runners)
            {
                runner.AttachAdoptedFault();
            }

            return vm;
        }
        catch
        {
            // The file stays as the old process wrote it: it may serve on, and write it, when this adoption fails.
            vm.Journal.CloseFile(null);
            if (adopted)
            {
                // Gives back what the memory bookkeeping holds, and disposes the backend VM and its files.
                vm.Shutdown(options.VcpuStopTimeout);
            }
            else
            {
                if (reserved)
                {
                    context.Ledger.Release(state.Owner, bytes, state.Memfds.Count);
                }

                backendVm.Dispose();
                if (backendVm is KvmVm)
                {
                    // A kvm VM's guest_memfds are objects of their own (a simulated VM's go with it).
                    foreach (var file in files.Values)
                    {
                        file.Dispose();
                    }
                }
            }

            throw;
        }
    }

    // The backend VM made again in this process, by the backend the state is of.
    private static (IVm Vm, IReadOnlyDictionary<ulong, IGuestMemfd> Files, IReadOnlyList<IVcpu> Vcpus) AdoptBackend(VmHandoffState state, IHypervisor hypervisor, IReadOnlyList<SafeHandle> descriptors, CopiedJournals? copied)
    {
        switch (state, hypervisor)
        {
            case ({ Kvm: { } kvm }, KvmHypervisor host):
                return host.Adopt(kvm, descriptors);
            case ({ Backend: { } simulated, Kvm: null }, SimulatedHypervisor host):
                var (vm, files, vcpus) = host.Adopt(simulated, copied?.CameAheadFor(state.Uid));
                return (vm, files.ToDictionary(f => f.Key, f => (IGuestMemfd)f.Value), vcpus);
            default:
                throw new InvalidDataException($"vm '{state.VmId}': its state is not one of backend '{state.BackendName}' of this server");
        }
    }

    // The file the old process wrote the journal to, every event in it: this process appends to it from now on. Both
    // processes must keep journals in the same directory, or a later start would take a living VM for lost.
    private static void AttachJournalFile(CoreContext context, ManagedVm vm, VmHandoffState state)
    {
        var store = context.Journals;
        if (state.JournalFile is null != store is null
            || (state.JournalFile is { } file && Path.GetDirectoryName(file) != store!.Directory))
        {
            throw new InvalidDataException(
                $"vm '{state.VmId}': its journal file is {state.JournalFile ?? "none"}, and this server keeps journals in {store?.Directory ?? "memory only"}; start it with the same MemSvc:Journal:Directory");
        }

        if (state.JournalFile is not { } path)
        {
            return;
        }

        var contents = JournalFileReader.Read(path);
        var last = contents.Events.Count > 0 ? contents.Events[^1].Sequence : 0;
        if (contents.Problem != JournalFileProblem.None || contents.Header?.VmUid != state.Uid || contents.IsLost || last + 1 != state.NextSequence)
        {
            throw new InvalidDataException($"vm '{state.VmId}': its journal file {path} does not end at sequence {state.NextSequence - 1} of uid {state.Uid}");
        }

        vm.Journal.AttachFile(JournalFile.Reopen(path, contents, context.Options.Journal.MaxFileBytes), store!);
    }

    /// <summary>Each vCPU's loaded program now (simulated VMs: a kvm VM's program is in its memory), to send ahead of a handoff's freeze.</summary>
    public IReadOnlyList<(int Vcpu, GuestProgram Program)> LoadedPrograms() => Vm is SimulatedVm simulated ? simulated.LoadedPrograms() : [];

    /// <summary>The contents of the VM's page stores now (simulated VMs: a kvm VM's memory moves as descriptors), to send ahead of a handoff's freeze.</summary>
    public IReadOnlyList<(string Key, StoreSnapshot Contents)> ContentsSnapshots()
    {
        if (Vm is not SimulatedVm simulated)
        {
            return [];
        }

        lock (Memory.Sync)
        {
            return simulated.ContentsSnapshots(Memory.Memfds.Select(m => m.File));
        }
    }

    /// <summary>The journal's held events now, for the copy ahead of a handoff, and the last sequence among them (0 for none).</summary>
    public (JournalHandoffState Journal, ulong Through) CopyJournal()
    {
        var (events, _) = Journal.Held();
        return (new JournalHandoffState(Id, Uid, [.. events.Select(Encode)]), events.Count == 0 ? 0 : events[^1].Sequence);
    }

    // An event in the journal file's record encoding (without the record's length and checksum).
    private static byte[] Encode(VmEvent evt)
    {
        var record = new List<byte>(96);
        EventCodec.Append(record, evt);
        return CollectionsMarshal.AsSpan(record)[JournalFileFormat.RecordOverhead..].ToArray();
    }
}
