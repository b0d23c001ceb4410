namespace MemSvc.Hypervisor.Kvm;

/// <summary>
/// A memslot's shared side (its userspace_addr) and, when MemSvc allocated it, the mapping behind it. Only
/// anonymous memory and INIT_SHARED guest_memfd mappings are ever read or written by the host: every other
/// form could fault (SIGBUS) or belongs to someone else.
/// </summary>
internal sealed class SharedSide : IDisposable
{
    private readonly MappedMemory? _mapping;
    private readonly bool _hostAccessible;

    private SharedSide(SharedBacking backing, ulong userspaceAddress, MappedMemory? mapping, bool hostAccessible)
    {
        Backing = backing;
        UserspaceAddress = userspaceAddress;
        _mapping = mapping;
        _hostAccessible = hostAccessible;
    }

    /// <summary>What the region asked for.</summary>
    public SharedBacking Backing { get; }

    /// <summary>The userspace_addr given to the kernel.</summary>
    public ulong UserspaceAddress { get; }

    /// <summary>Bytes MemSvc mapped for this side (0 when it mapped nothing).</summary>
    public ulong MappedLength => _mapping?.Length ?? 0;

    /// <summary>Whether the host may read and write it: MemSvc's own mapping, still mapped, and unable to SIGBUS.</summary>
    public bool IsHostAccessible => _hostAccessible && _mapping is { IsClosed: false };

    public static SharedSide Raw(SharedBacking backing, ulong userspaceAddress) => new(backing, userspaceAddress, null, false);

    public static SharedSide Anonymous(ulong size)
    {
        var mapping = MappedMemory.Anonymous(size);
        return new SharedSide(SharedBacking.Anonymous, (ulong)mapping.Address, mapping, true);
    }

    /// <summary>
    /// The guest_memfd's own MAP_SHARED mapping of [offset, offset+size). Host access is allowed only with
    /// INIT_SHARED: without it every page starts private and touching it would SIGBUS the process.
    /// </summary>
    public static SharedSide GuestMemfd(KvmGuestMemfd memfd, ulong offset, ulong size)
    {
        var mapping = memfd.MapForSlot(offset, size);
        var accessible = memfd.Flags.HasFlag(GuestMemfdFlags.InitShared);
        return new SharedSide(SharedBacking.GuestMemfdMapping, (ulong)mapping.Address, mapping, accessible);
    }

    /// <summary>The host address of byte <paramref name="offset"/> of the slot; only when <see cref="IsHostAccessible"/>.</summary>
    public nint HostAddress(ulong offset) => _mapping!.Address + (nint)offset;

    /// <summary>
    /// Releases [offset, offset+length) so it reads back as zero. Both kinds of mapping are MAP_SHARED views of a
    /// file (shmem for anonymous memory, the guest_memfd itself), where MADV_DONTNEED would only drop the page
    /// table entries and keep the data: MADV_REMOVE punches the file instead.
    /// </summary>
    public void Discard(ulong offset, ulong length)
    {
        if (LibC.Madvise(HostAddress(offset), (nuint)length, LibC.MADV_REMOVE) != 0)
        {
            throw KvmErrors.LastError("madvise", $"discarding {length} bytes of a memslot's shared side failed");
        }
    }

    /// <summary>munmap while the slot stays bound: the kernel keeps the stale userspace_addr.</summary>
    public void Unmap() => _mapping?.Dispose();

    public void Dispose() => _mapping?.Dispose();
}
