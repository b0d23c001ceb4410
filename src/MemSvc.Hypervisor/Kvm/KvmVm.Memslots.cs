namespace MemSvc.Hypervisor.Kvm;

/// <summary>Memslots: KVM_SET_USER_MEMORY_REGION2 with the shared side MemSvc allocates.</summary>
public sealed partial class KvmVm
{
    public void SetUserMemoryRegion(MemoryRegion region)
    {
        ArgumentNullException.ThrowIfNull(region);
        lock (_lock)
        {
            ThrowIfDisposed();
            if (_boot is not null && region.Slot == BootSlot)
            {
                throw new HypervisorException(Errno.EINVAL, "KVM_SET_USER_MEMORY_REGION2", $"memslot {BootSlot} holds the kvm backend's boot memory ({BootLayout.Range})", "slot");
            }

            var (handle, fdNumber) = GuestMemfdArgument(region.GuestMemfd);
            var referenced = false;
            try
            {
                // The reference keeps the guest_memfd's number from being closed and reused during the ioctl.
                if (handle is not null)
                {
                    handle.DangerousAddRef(ref referenced);
                }

                if (region.MemorySize == 0)
                {
                    Delete(region, fdNumber);
                }
                else
                {
                    CreateOrModify(region, fdNumber);
                }
            }
            finally
            {
                if (referenced)
                {
                    handle!.DangerousRelease();
                }
            }
        }
    }

    public void UnmapSharedBacking(uint slot)
    {
        lock (_lock)
        {
            ThrowIfDisposed();
            if (!_slots.TryGetValue(slot, out var memslot))
            {
                throw new HypervisorException(Errno.EINVAL, "munmap", $"there is no memslot {slot}", "slot");
            }

            memslot.Shared.Unmap();
        }
    }

    // Which fd number the kernel sees. A foreign IGuestMemfd gets this VM's own fd, and a closed one -1, so the
    // kernel itself refuses them (EINVAL from the f_op check, EBADF from fget), after the same earlier checks it
    // would apply to any bad fd: the errno precedence stays the kernel's.
    private (FileDescriptor? Handle, int Number) GuestMemfdArgument(IGuestMemfd? memfd)
    {
        switch (memfd)
        {
            case null:
                return (null, -1);
            case KvmGuestMemfd own when !own.IsClosed:
                return (own.Handle, own.Handle.Number);
            case KvmGuestMemfd:
                return (null, -1);
            default:
                return (null, _fd.Handle.Number);
        }
    }

    private void Delete(MemoryRegion region, int fdNumber)
    {
        var userspaceAddress = region.SharedBacking is SharedBacking.RawAddress raw ? raw.UserspaceAddress : 0;
        var request = Request(region, userspaceAddress, fdNumber);
        SetRegion(ref request);
        if (_slots.Remove(region.Slot, out var old))
        {
            old.Shared.Dispose();
        }
    }

    private void CreateOrModify(MemoryRegion region, int fdNumber)
    {
        _slots.TryGetValue(region.Slot, out var existing);

        // A modification keeps the slot's shared side: the kernel refuses a changed userspace_addr anyway.
        var reuse = existing is not null && SameSharedSide(existing.Region, region);
        var shared = reuse ? existing!.Shared : AllocateSharedSide(region);
        var request = Request(region, shared.UserspaceAddress, fdNumber);
        try
        {
            SetRegion(ref request);
        }
        catch
        {
            if (!reuse)
            {
                shared.Dispose();
            }

            throw;
        }

        if (existing is not null && !reuse)
        {
            existing.Shared.Dispose();
        }

        _slots[region.Slot] = new Memslot(region, shared);
    }

    private static bool SameSharedSide(MemoryRegion old, MemoryRegion requested) =>
        old.SharedBacking == requested.SharedBacking
        && old.MemorySize == requested.MemorySize
        && (requested.SharedBacking is not SharedBacking.GuestMemfdMap
            || (ReferenceEquals(old.GuestMemfd, requested.GuestMemfd) && old.GuestMemfdOffset == requested.GuestMemfdOffset));

    private static SharedSide AllocateSharedSide(MemoryRegion region)
    {
        switch (region.SharedBacking)
        {
            case SharedBacking.RawAddress raw:
                return SharedSide.Raw(raw, raw.UserspaceAddress);
            case SharedBacking.AnonymousMemory:
                return SharedSide.Anonymous(region.MemorySize);
            case SharedBacking.GuestMemfdMap when region.GuestMemfd is KvmGuestMemfd { IsClosed: false } memfd:
                return SharedSide.GuestMemfd(memfd, region.GuestMemfdOffset, region.MemorySize);
            case SharedBacking.GuestMemfdMap when region.Flags.HasFlag(MemoryRegionFlags.GuestMemfd):
                // No file to map: the kernel refuses the fd (EBADF or EINVAL) before it looks at userspace_addr.
                return SharedSide.Raw(region.SharedBacking, 0);
            case SharedBacking.GuestMemfdMap:
                throw new HypervisorException(Errno.EINVAL, "KVM_SET_USER_MEMORY_REGION2", "SharedBacking.GuestMemfdMapping needs an open guest_memfd of this VM's backend", "guest_memfd");
            default:
                return SharedSide.Raw(region.SharedBacking, 0);
        }
    }

    private static KvmUserspaceMemoryRegion2 Request(MemoryRegion region, ulong userspaceAddress, int fdNumber) => new()
    {
        Slot = region.Slot,
        Flags = (uint)region.Flags,
        GuestPhysAddr = region.GuestPhysAddr,
        MemorySize = region.MemorySize,
        UserspaceAddr = userspaceAddress,
        GuestMemfdOffset = region.GuestMemfdOffset,
        GuestMemfd = unchecked((uint)fdNumber),
    };

    /// <summary>
    /// One memslot call. Kernels before 6.8 have no KVM_SET_USER_MEMORY_REGION2 (KVM_CAP_USER_MEMORY2 = 0): there a
    /// region without a guest_memfd is the same request through KVM_SET_USER_MEMORY_REGION, whose struct is REGION2's
    /// first five fields, so such hosts still run guests over anonymous memory. A guest_memfd region always goes to
    /// REGION2, so a kernel without it answers with its own ENOTTY.
    /// </summary>
    private void SetRegion(ref KvmUserspaceMemoryRegion2 request)
    {
        if (_userMemory2 || (request.Flags & (uint)MemoryRegionFlags.GuestMemfd) != 0)
        {
            _fd.SetUserMemoryRegion2(ref request);
            return;
        }

        var v1 = new KvmUserspaceMemoryRegion
        {
            Slot = request.Slot,
            Flags = request.Flags,
            GuestPhysAddr = request.GuestPhysAddr,
            MemorySize = request.MemorySize,
            UserspaceAddr = request.UserspaceAddr,
        };
        _fd.SetUserMemoryRegion(ref v1);
    }
}
