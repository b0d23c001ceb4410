using MemSvc.Hypervisor.Memory;
using MemSvc.Hypervisor.Simulated.Handoff;

namespace MemSvc.Hypervisor.Simulated;

public sealed partial class SimulatedVm
{
    /// <summary>
    /// The VM as plain data, for a planned handoff (<see cref="SimulatedHypervisor.Adopt"/> makes it again in the
    /// next process). <paramref name="openFiles"/> are the guest_memfd files whose fd the caller holds; files only
    /// memslots or mappings still hold come along by themselves. The caller has stopped every vCPU's thread.
    /// A file of another VM (mapped as a shared side here) cannot move with this VM alone and is refused.
    /// What went ahead with the journal copy (<paramref name="sentAhead"/>, version 4) and is unchanged is left out: a
    /// vCPU's program still loaded, a store's contents not written since.
    /// </summary>
    public SimulatedVmState Export(IEnumerable<IGuestMemfd> openFiles, SentAhead? sentAhead = null)
    {
        ArgumentNullException.ThrowIfNull(openFiles);
        List<ValueRun> attributes;
        List<SimulatedFileState> files;
        List<SimulatedSlotState> slots;
        lock (SyncRoot)
        {
            ThrowIfDisposed("handoff");
            var held = HeldFilesLocked(openFiles);
            slots = [];
            foreach (var slot in AllSlots)
            {
                var mapping = ExportMapping(slot.OwnedMapping, sentAhead?.Contents(SentAheadKeys.Slot(slot.AsId, slot.Id)));
                slots.Add(new SimulatedSlotState(
                    slot.AsId, slot.Id, slot.Flags, slot.Gpa, slot.Size, slot.UserspaceAddr, mapping, slot.GuestMemfd?.Inode, slot.GuestMemfdOffset, slot.GuestMemfdOnly));
            }

            attributes = [.. Attributes.Runs(0, ulong.MaxValue).Where(r => r.Attributes != MemoryAttributes.None).Select(r => new ValueRun(r.Start, r.Start + r.Size, (ulong)r.Attributes))];
            files = [.. held.Values.Select(f => f.ExportLocked(sentAhead?.Contents(SentAheadKeys.File(f.Inode))))];
        }

        // Outside the VM's lock: a vCPU's run lock is taken before the VM's, never after.
        var vcpus = _vcpus.Values.OrderBy(v => v.Index).Select(v => v.Export(sentAhead?.Program(v.Index))).ToList();
        return new SimulatedVmState(Profile.Name, Type, _exitHypercallMask, attributes, files, slots, vcpus);
    }

    // Under the lock, on a VM just made for the handoff. Returns its files by the inode they had in the state.
    internal Dictionary<ulong, SimulatedGuestMemfd> ImportLocked(SimulatedVmState state, CameAhead? cameAhead)
    {
        _exitHypercallMask = state.ExitHypercallMask;
        foreach (var run in state.Attributes)
        {
            Attributes.Set(run.Start, run.End, (MemoryAttributes)run.Value);
        }

        var files = new Dictionary<ulong, SimulatedGuestMemfd>();
        foreach (var file in state.Files)
        {
            var made = new SimulatedGuestMemfd(this, file.Size, file.Flags);
            made.ImportLocked(file, cameAhead?.Contents(SentAheadKeys.File(file.Inode)));
            files.Add(file.Inode, made);
        }

        foreach (var s in state.Slots)
        {
            var table = SlotsIn(s.AsId) ?? throw Fail.Inval("handoff", $"address space {s.AsId} does not exist in host profile {Profile.Name}", "slot");
            var mapping = ImportMapping(s.OwnedMapping, files, cameAhead?.Contents(SentAheadKeys.Slot(s.AsId, s.Id)));
            var slot = new Memslot
            {
                AsId = s.AsId,
                Id = s.Id,
                Flags = s.Flags,
                Gpa = s.Gpa,
                Size = s.Size,
                UserspaceAddr = s.UserspaceAddr,
                OwnedMapping = mapping,
                GuestMemfd = s.GuestMemfdInode is { } inode ? FileOf(files, inode) : null,
                GuestMemfdOffset = s.GuestMemfdOffset,
                GuestMemfdOnly = s.GuestMemfdOnly,
            };
            slot.GuestMemfd?.Bind(slot);
            table.Add(slot);
        }

        return files;
    }

    private void Hold(SortedDictionary<ulong, SimulatedGuestMemfd> held, SimulatedGuestMemfd file)
    {
        if (!ReferenceEquals(file.Owner, this))
        {
            throw Fail.Inval("handoff", $"{file} belongs to another VM", "guest_memfd");
        }

        held.TryAdd(file.Inode, file);
    }

    private static SimulatedMappingState? ExportMapping(UserMapping? mapping, StoreSnapshot? sent) => mapping switch
    {
        AnonymousMapping a when sent is not null && a.Store.IsUnchangedSince(sent) => new SimulatedMappingState(a.Start, a.Size, PageStoreState.Empty, 0, 0, ContentsSentAhead: true),
        AnonymousMapping a => new SimulatedMappingState(a.Start, a.Size, a.Store.Export(), 0, 0),
        GuestMemfdMapping g => new SimulatedMappingState(g.Start, g.Size, null, g.File.Inode, g.FileOffset),
        _ => null,
    };

    private UserMapping? ImportMapping(SimulatedMappingState? state, Dictionary<ulong, SimulatedGuestMemfd> files, PageStoreState? cameAhead)
    {
        UserMapping? mapping;
        switch (state)
        {
            case null:
                return null;
            case { Anonymous: { } contents }:
                var anonymous = new AnonymousMapping(state.Start, state.Size);
                anonymous.Store.Load(state.ContentsSentAhead ? cameAhead ?? throw ContentsMissing(state.Start) : contents);
                mapping = anonymous;
                break;
            default:
                mapping = new GuestMemfdMapping(state.Start, state.Size, FileOf(files, state.FileInode), state.FileOffset);
                break;
        }

        AddressSpace.Place(mapping);
        if (mapping is GuestMemfdMapping g)
        {
            // The mmap's reference on the file, as GuestMemfdMmap.Map takes it.
            g.File.AddMapping();
        }

        return mapping;
    }

    private static SimulatedGuestMemfd FileOf(Dictionary<ulong, SimulatedGuestMemfd> files, ulong inode) =>
        files.TryGetValue(inode, out var file) ? file : throw Fail.Inval("handoff", $"no guest_memfd with inode {inode} came with the VM", "guest_memfd");
}
