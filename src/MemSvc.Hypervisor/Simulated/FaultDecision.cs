namespace MemSvc.Hypervisor.Simulated;

/// <summary>How a guest page access ends.</summary>
internal enum FaultOutcome : byte
{
    /// <summary>The page is (now) mapped: the access goes to the returned target.</summary>
    Resolved,

    /// <summary>KVM_EXIT_MEMORY_FAULT: gpa page aligned, size 4096, flags Private iff the access was private.</summary>
    MemoryFault,

    /// <summary>KVM_EXIT_MMIO: no memslot (shared access) or a write to a READONLY slot.</summary>
    Mmio,

    /// <summary>KVM_RUN fails with a bare EFAULT: the shared side's hva is not mapped (or would SIGBUS).</summary>
    Efault,
}

/// <summary>
/// The seed patch's fault path (kvm_mmu_faultin_pfn, __kvm_mmu_faultin_pfn, kvm_mmu_faultin_pfn_gmem as in
/// v6.18), decided for one page with the VM's lock held. Allocation-free: it runs on every page a guest step
/// touches.
/// </summary>
internal static class FaultDecision
{
    public static FaultOutcome Decide(SimulatedVm vm, ulong page, bool isPrivate, bool isWrite, out PageTarget target)
    {
        target = default;

        // MF-1: the mismatch check comes first, before the memslot is looked at.
        if (isPrivate != vm.Attributes.IsPrivate(page))
        {
            return FaultOutcome.MemoryFault;
        }

        var slot = vm.Slots.Find(page);
        if (slot is null)
        {
            // MF-3: a private fault that would go to MMIO emulation exits with EFAULT instead.
            return isPrivate ? FaultOutcome.MemoryFault : FaultOutcome.Mmio;
        }

        if (isPrivate || slot.GuestMemfdOnly)
        {
            // MF-2: private memory must come from a guest_memfd; MF-4/LC-3: a released file has no pages.
            var file = slot.GuestMemfd;
            if (!slot.HasGuestMemfdFlag || file is null)
            {
                return FaultOutcome.MemoryFault;
            }

            var offset = slot.GuestMemfdOffset + (page - slot.Gpa);
            if (!file.IsAllocated(offset))
            {
                file.MarkAllocated(offset, KvmLimits.PageSize);
            }

            target = new PageTarget(file.Store, offset);
            MapIfNeeded(vm, slot, page, fromGuestMemfd: true);
            return FaultOutcome.Resolved;
        }

        if (isWrite && slot.IsReadOnly)
        {
            return FaultOutcome.Mmio;
        }

        var hva = slot.UserspaceAddr + (page - slot.Gpa);
        var mapping = slot.OwnedMapping ?? (slot.UserspaceAddr == 0 ? null : vm.AddressSpace.Find(hva));
        if (mapping is null || !mapping.IsMapped || vm.ResolveHva(mapping, hva) is not { } resolved)
        {
            return FaultOutcome.Efault;
        }

        target = resolved;
        MapIfNeeded(vm, slot, page, fromGuestMemfd: false);
        return FaultOutcome.Resolved;
    }

    private static void MapIfNeeded(SimulatedVm vm, Memslot slot, ulong page, bool fromGuestMemfd)
    {
        if (vm.Mmu.LevelAt(page) == MappingLevel.None)
        {
            vm.Mmu.Map(page, MaxLevel(vm, slot, page, fromGuestMemfd));
        }
    }

    /// <summary>
    /// kvm_mmu_hugepage_adjust: the folio order for guest_memfd pages (MF-9) or the host mapping for hva pages,
    /// no huge pages with dirty logging, and no huge page over a region that is not wholly inside the slot
    /// (HP-2), whose gpa and backing are not congruent, or whose attributes are mixed (HP-1).
    /// </summary>
    internal static MappingLevel MaxLevel(SimulatedVm vm, Memslot slot, ulong page, bool fromGuestMemfd)
    {
        var max = fromGuestMemfd
            ? MappingLevels.ForFolioOrder(vm.Options.GuestMemfdFolioOrder)
            : vm.Options.AnonymousHostLevel;
        if ((slot.Flags & MemoryRegionFlags.LogDirtyPages) != 0)
        {
            return MappingLevel.Page4K;
        }

        var backing = fromGuestMemfd ? slot.GuestMemfdOffset : slot.UserspaceAddr;
        for (var level = max; level > MappingLevel.Page4K; level--)
        {
            var bytes = MappingLevels.Bytes(level);
            var start = page & ~(bytes - 1);
            var end = start + bytes;
            if (start >= slot.Gpa && end <= slot.End && ((backing ^ slot.Gpa) & (bytes - 1)) == 0
                && vm.Attributes.IsUniform(start, end))
            {
                return level;
            }
        }

        return MappingLevel.Page4K;
    }
}
