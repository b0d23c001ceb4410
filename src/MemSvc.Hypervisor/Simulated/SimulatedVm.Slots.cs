namespace MemSvc.Hypervisor.Simulated;

public sealed partial class SimulatedVm
{
    public void SetUserMemoryRegion(MemoryRegion region)
    {
        ArgumentNullException.ThrowIfNull(region);
        lock (SyncRoot)
        {
            ThrowIfDisposed(MemslotValidator.Operation);

            // The shared side is set up by userspace before the ioctl (mmap), as QEMU does; a failed ioctl
            // unmaps it again, so that a failed call changes nothing.
            var (userspaceAddr, mapping) = PrepareSharedSide(region);
            try
            {
                var (change, old, file) = MemslotValidator.Validate(this, region, userspaceAddr);
                Commit(region, change, old, file, userspaceAddr, mapping);
            }
            catch
            {
                if (mapping is not null)
                {
                    ReleaseMapping(mapping);
                }

                throw;
            }
        }
    }

    public void UnmapSharedBacking(uint slot)
    {
        lock (SyncRoot)
        {
            ThrowIfDisposed("munmap");
            var s = FindSlot(slot) ?? throw Fail.Inval("munmap", $"slot 0x{slot:x} does not exist", "slot");
            if (s.OwnedMapping is { } mapping)
            {
                s.OwnedMapping = null;

                // munmap's mmu_notifier invalidation zaps what the guest had mapped from these pages.
                MmuOf(s).Zap(s.Gpa, s.End);
                ReleaseMapping(mapping);
            }
        }
    }

    // userspace_addr for the request, and the mapping created for it (null when none was created).
    private (ulong Address, UserMapping? Created) PrepareSharedSide(MemoryRegion region)
    {
        switch (region.SharedBacking)
        {
            case SharedBacking.RawAddress raw:
                return (raw.UserspaceAddress, null);
            case SharedBacking.AnonymousMemory when region.MemorySize != 0:
                // A request for an existing slot keeps the memory the backend gave it, so that a plain slot can
                // be moved or get new flags as with the same userspace_addr.
                if (FindSlot(region.Slot) is { OwnedMapping: AnonymousMapping own })
                {
                    return (own.Start, null);
                }

                var anonymous = AddressSpace.MapAnonymous(region.MemorySize);
                return (anonymous.Start, anonymous);
            case SharedBacking.GuestMemfdMap when region.MemorySize != 0:
                var gmem = MapGuestMemfd(region);
                return (gmem.Start, gmem);
            default:
                return (0, null);
        }
    }

    // mmap(MAP_SHARED) of the request's guest_memfd at guest_memfd_offset, with mmap's own errors in its order.
    private GuestMemfdMapping MapGuestMemfd(MemoryRegion region)
    {
        switch (region.GuestMemfd)
        {
            case null:
                return GuestMemfdMmap.Map(AddressSpace, null, region.GuestMemfdOffset, region.MemorySize);
            case SimulatedGuestMemfd file:
                lock (file.Owner.SyncRoot)
                {
                    return GuestMemfdMmap.Map(AddressSpace, file, region.GuestMemfdOffset, region.MemorySize);
                }

            default:
                throw Fail.Inval("mmap", "guest_memfd is not a guest_memfd of the simulated backend", "guest_memfd");
        }
    }

    private void ReleaseMapping(UserMapping mapping)
    {
        AddressSpace.Unmap(mapping);

        // munmap frees anonymous pages at once; a reference to the mapping still held elsewhere (a slow watcher's
        // hold on a deleted VM) must not keep a guest's written memory alive.
        if (mapping is AnonymousMapping anonymous)
        {
            anonymous.Store.Clear();
        }
        else if (mapping is GuestMemfdMapping g)
        {
            lock (g.File.Owner.SyncRoot)
            {
                g.File.DropMapping();
            }
        }
    }

    private void Commit(MemoryRegion region, MemslotChange change, Memslot? old, SimulatedGuestMemfd? file, ulong ua, UserMapping? mapping)
    {
        switch (change)
        {
            case MemslotChange.Delete:
                DeleteSlotLocked(old!);
                break;
            case MemslotChange.Create:
                var slot = new Memslot
                {
                    AsId = region.Slot >> 16,
                    Id = region.Slot & 0xffff,
                    Flags = region.Flags,
                    Gpa = region.GuestPhysAddr,
                    Size = region.MemorySize,
                    UserspaceAddr = ua,
                    OwnedMapping = mapping,
                    GuestMemfd = file,
                    GuestMemfdOffset = file is null ? 0 : region.GuestMemfdOffset,
                    GuestMemfdOnly = file?.HasMmap ?? false,
                };
                file?.Bind(slot);
                SlotsIn(slot.AsId)!.Add(slot);
                break;
            case MemslotChange.Move:
                var moved = old!;
                MmuOf(moved).Zap(moved.Gpa, moved.End);
                SlotsIn(moved.AsId)!.Move(moved, region.GuestPhysAddr);
                moved.Flags = region.Flags;
                break;
            case MemslotChange.FlagsOnly:
                // Dirty logging on or off changes which levels may be mapped: drop the slot's mappings.
                var changed = old!;
                MmuOf(changed).Zap(changed.Gpa, changed.End);
                changed.Flags = region.Flags;
                break;
            case MemslotChange.None:
                break;
        }
    }

    // kvm_set_memslot(KVM_MR_DELETE): zap, unbind the guest_memfd range (LC-4), drop the backend's mapping.
    private void DeleteSlotLocked(Memslot slot)
    {
        MmuOf(slot).Zap(slot.Gpa, slot.End);
        SlotsIn(slot.AsId)!.Remove(slot);
        slot.GuestMemfd?.Unbind(slot);
        slot.GuestMemfd = null;
        if (slot.OwnedMapping is { } mapping)
        {
            slot.OwnedMapping = null;
            ReleaseMapping(mapping);
        }
    }
}
