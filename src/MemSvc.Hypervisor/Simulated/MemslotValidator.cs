namespace MemSvc.Hypervisor.Simulated;

/// <summary>What a valid KVM_SET_USER_MEMORY_REGION2 does (enum kvm_mr_change).</summary>
internal enum MemslotChange
{
    Create,
    Delete,
    Move,
    FlagsOnly,
    None,
}

/// <summary>
/// The checks of KVM_SET_USER_MEMORY_REGION2 in the order of v6.18's __kvm_set_memory_region, kvm_gmem_bind and
/// kvm_arch_prepare_memory_region, so that the first failing check's errno wins as on the real kernel
/// (results.txt's region2 and order rows). Pure: it reads the table and changes nothing.
/// </summary>
internal static class MemslotValidator
{
    public const string Operation = "KVM_SET_USER_MEMORY_REGION2";

    /// <summary>Validates <paramref name="region"/> whose userspace_addr is <paramref name="userspaceAddr"/>.</summary>
    /// <returns>The change, the existing slot it applies to (null for Create) and the guest_memfd to bind.</returns>
    public static (MemslotChange Change, Memslot? Old, SimulatedGuestMemfd? File) Validate(
        SimulatedVm vm, MemoryRegion region, ulong userspaceAddr)
    {
        var profile = vm.Profile;
        var flags = region.Flags;
        CheckFlags(flags, profile.GuestMemfd);

        var asId = region.Slot >> 16;
        var id = region.Slot & 0xffff;
        var size = region.MemorySize;
        var gpa = region.GuestPhysAddr;
        var hasGmem = (flags & MemoryRegionFlags.GuestMemfd) != 0;

        if (!KvmLimits.IsPageAligned(size))
        {
            throw Fail.Inval(Operation, $"memory_size 0x{size:x} is not page aligned", "memory_size");
        }

        if (!KvmLimits.IsPageAligned(gpa))
        {
            throw Fail.Inval(Operation, $"guest_phys_addr 0x{gpa:x} is not page aligned", "guest_phys_addr");
        }

        CheckUserspaceAddr(userspaceAddr, size);

        if (hasGmem && (!KvmLimits.IsPageAligned(region.GuestMemfdOffset) || region.GuestMemfdOffset + size < region.GuestMemfdOffset))
        {
            throw Fail.Inval(Operation, $"guest_memfd_offset 0x{region.GuestMemfdOffset:x} is unaligned or overflows with memory_size", "guest_memfd_offset");
        }

        // kvm_arch_nr_memslot_as_ids: 1, or 2 where the kernel has SMM (KVM_CAP_MULTI_ADDRESS_SPACE 2).
        if (asId >= profile.AddressSpaces || id >= profile.MaxMemslots)
        {
            throw Fail.Inval(Operation, $"slot 0x{region.Slot:x}: address space {asId} / id {id} out of range", "slot");
        }

        if (gpa + size < gpa)
        {
            throw Fail.Inval(Operation, $"guest_phys_addr 0x{gpa:x} + memory_size 0x{size:x} wraps", "guest_phys_addr");
        }

        if (size >> KvmLimits.PageShift > KvmLimits.MaxPagesPerSlot)
        {
            throw Fail.Inval(Operation, $"memory_size 0x{size:x} is more than KVM_MEM_MAX_NR_PAGES pages", "memory_size");
        }

        var slots = vm.SlotsIn(asId)!;
        var old = slots.Get(id);
        if (size == 0)
        {
            // The fd is not looked at on delete (MS-12).
            return old is null
                ? throw Fail.Inval(Operation, $"slot {id} does not exist", "slot")
                : (MemslotChange.Delete, old, null);
        }

        var change = old is null ? MemslotChange.Create : ModifyKind(region, userspaceAddr, old);
        if (change == MemslotChange.None)
        {
            return (change, old, null);
        }

        if ((change is MemslotChange.Create or MemslotChange.Move) && slots.Overlaps(id, gpa, gpa + size))
        {
            throw Fail.With(Errno.EEXIST, Operation, $"[0x{gpa:x}, 0x{gpa + size:x}) overlaps another memslot", "guest_phys_addr");
        }

        var file = hasGmem ? CheckBind(vm, region) : null;

        // kvm_arch_prepare_memory_region, reached only after kvm_gmem_bind.
        if ((change is MemslotChange.Create or MemslotChange.Move) && gpa + size > profile.GpaLimit)
        {
            throw Fail.Inval(Operation, $"[0x{gpa:x}, 0x{gpa + size:x}) goes above the guest physical address limit 0x{profile.GpaLimit:x}", "guest_phys_addr");
        }

        return (change, old, file);
    }

    /// <summary>
    /// check_memory_region_flags (v6.18): GUEST_MEMFD only where the kernel has guest_memfd, and it excludes
    /// LOG_DIRTY_PAGES and READONLY (MS-2..MS-4).
    /// </summary>
    private static void CheckFlags(MemoryRegionFlags flags, bool guestMemfd)
    {
        var valid = MemoryRegionFlags.LogDirtyPages | (guestMemfd ? MemoryRegionFlags.GuestMemfd : MemoryRegionFlags.None);
        if ((flags & MemoryRegionFlags.GuestMemfd) != 0)
        {
            valid &= ~MemoryRegionFlags.LogDirtyPages;
        }
        else
        {
            valid |= MemoryRegionFlags.ReadOnly;
        }

        if ((flags & ~valid) != 0)
        {
            throw Fail.Inval(Operation, $"flags 0x{(uint)flags:x} has bits 0x{(uint)(flags & ~valid):x} that are not allowed", "flags");
        }
    }

    /// <summary>PAGE_ALIGNED and access_ok(userspace_addr, memory_size) on x86-64.</summary>
    private static void CheckUserspaceAddr(ulong ua, ulong size)
    {
        if (!KvmLimits.IsPageAligned(ua))
        {
            throw Fail.Inval(Operation, $"userspace_addr 0x{ua:x} is not page aligned", "userspace_addr");
        }

        var end = ua + size;
        if (end < ua || end > KvmLimits.TaskSizeMax)
        {
            throw Fail.Inval(Operation, $"[0x{ua:x}, +0x{size:x}) is not a user address range (TASK_SIZE_MAX 0x{KvmLimits.TaskSizeMax:x})", "userspace_addr");
        }
    }

    // The modify branch of __kvm_set_memory_region: guest_memfd slots are immutable (MS-13), and v6.18 also
    // refuses toggling READONLY or GUEST_MEMFD (results.txt: "drop GUEST_MEMFD flag" is EINVAL).
    private static MemslotChange ModifyKind(MemoryRegion region, ulong ua, Memslot old)
    {
        if ((region.Flags & MemoryRegionFlags.GuestMemfd) != 0)
        {
            throw Fail.Inval(Operation, $"slot {old.Id} is a guest_memfd slot or would become one: such slots can only be deleted", "flags");
        }

        if (ua != old.UserspaceAddr)
        {
            throw Fail.Inval(Operation, $"userspace_addr of slot {old.Id} cannot change (0x{old.UserspaceAddr:x} → 0x{ua:x})", "userspace_addr");
        }

        if (region.MemorySize != old.Size)
        {
            throw Fail.Inval(Operation, $"memory_size of slot {old.Id} cannot change", "memory_size");
        }

        if (((region.Flags ^ old.Flags) & (MemoryRegionFlags.ReadOnly | MemoryRegionFlags.GuestMemfd)) != 0)
        {
            throw Fail.Inval(Operation, $"READONLY and GUEST_MEMFD of slot {old.Id} cannot change", "flags");
        }

        return region.GuestPhysAddr != old.Gpa ? MemslotChange.Move
            : region.Flags != old.Flags ? MemslotChange.FlagsOnly
            : MemslotChange.None;
    }

    /// <summary>kvm_gmem_bind: fget, file type, owner VM, range within the file, overlap with other bindings.</summary>
    private static SimulatedGuestMemfd CheckBind(SimulatedVm vm, MemoryRegion region)
    {
        if (region.GuestMemfd is null)
        {
            throw Fail.With(Errno.EBADF, Operation, "guest_memfd -1 is not an open file", "guest_memfd");
        }

        if (region.GuestMemfd is not SimulatedGuestMemfd file)
        {
            throw Fail.Inval(Operation, "guest_memfd is not a guest_memfd of the simulated backend", "guest_memfd");
        }

        if (!file.FdOpen)
        {
            throw Fail.With(Errno.EBADF, Operation, "guest_memfd is closed", "guest_memfd");
        }

        if (!ReferenceEquals(file.Owner, vm))
        {
            throw Fail.Inval(Operation, "guest_memfd belongs to another VM", "guest_memfd");
        }

        var offset = region.GuestMemfdOffset;
        var size = region.MemorySize;

        // `offset + size > i_size_read(inode)`. On 6.18 in loff_t, built with -fno-strict-overflow: a sum past 2^63
        // wraps negative and passes, so an offset just below 2^63 binds whatever the file's size. 7.2 refuses it.
        if ((long)offset < 0 || PastTheFile(vm.Profile, offset, size, file.Size))
        {
            throw Fail.Inval(Operation, $"[0x{offset:x}, 0x{offset + size:x}) is not within the guest_memfd (0x{file.Size:x} bytes)", "guest_memfd_offset");
        }

        if (file.HasBindingIn(offset, offset + size))
        {
            throw Fail.With(vm.Profile.OverlappingGmemErrno, Operation, $"guest_memfd range [0x{offset:x}, 0x{offset + size:x}) is already bound to another memslot", "guest_memfd_offset");
        }

        return file;
    }

    // __kvm_set_memory_region has already refused an offset + size that wraps u64.
    private static bool PastTheFile(SimulatedHostProfile profile, ulong offset, ulong size, ulong fileSize) =>
        profile.GuestMemfdBindSumWraps
            ? unchecked((long)offset + (long)size) > (long)fileSize
            : offset + size > fileSize;
}
