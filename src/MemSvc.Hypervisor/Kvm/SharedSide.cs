namespace MemSvc.Hypervisor.Kvm;

/// <summary>
/// A memslot's shared side (its userspace_addr) and, when MemSvc allocated it, the mapping behind it. Only
/// anonymous memory and INIT_SHARED guest_memfd mappings are ever read or written by the host: every other
/// form could fault (SIGBUS) or belongs to someone else.
/// </summary>
internal sealed class SharedSide : IDisposable
{
    private readonly MappedMemory? _mapping;
    private readonly FileDescriptor? _memfd;
    private readonly bool _hostAccessible;

    private SharedSide(SharedBacking backing, ulong userspaceAddress, MappedMemory? mapping, bool hostAccessible, FileDescriptor? memfd = null)
    {
        Backing = backing;
        UserspaceAddress = userspaceAddress;
        _mapping = mapping;
        _hostAccessible = hostAccessible;
        _memfd = memfd;
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

    /// <summary>Whether MemSvc mapped this side and then unmapped it (UnmapSharedBacking): the slot keeps a stale address.</summary>
    public bool IsUnmapped => _mapping is { IsClosed: true };

    /// <summary>The memfd behind anonymous memory, for a planned handoff to pass; null for other sides.</summary>
    public FileDescriptor? Memfd => _memfd;

    /// <summary>
    /// "Anonymous" memory, zeroed and sparse: a memfd mapped MAP_SHARED, which reads and discards (MADV_REMOVE) as
    /// shared anonymous memory does, and which a planned handoff can pass to the next process as a descriptor.
    /// </summary>
    public static SharedSide Anonymous(ulong size)
    {
        var (memfd, mapping) = MappedMemory.Memfd("memsvc-shared", size);
        return new SharedSide(SharedBacking.Anonymous, (ulong)mapping.Address, mapping, true, memfd);
    }

    /// <summary>
    /// Anonymous memory handed off by another process: its memfd (this side takes ownership), mapped at the
    /// address it had there when that is free here, else elsewhere (see KvmHypervisor.Adopt for why either will do).
    /// </summary>
    public static SharedSide AdoptAnonymous(FileDescriptor memfd, ulong size, ulong previousAddress)
    {
        var mapping = MappedMemory.OfFilePreferably(memfd, 0, size, previousAddress);
        return new SharedSide(SharedBacking.Anonymous, (ulong)mapping.Address, mapping, true, memfd);
    }

    /// <summary>A guest_memfd mapping made again in the process that adopted the VM, preferably at its old address.</summary>
    public static SharedSide AdoptGuestMemfd(KvmGuestMemfd memfd, ulong offset, ulong size, ulong previousAddress)
    {
        var mapping = memfd.MapForSlot(offset, size, previousAddress);
        return new SharedSide(SharedBacking.GuestMemfdMapping, (ulong)mapping.Address, mapping, memfd.Flags.HasFlag(GuestMemfdFlags.InitShared));
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

    /// <summary>
    /// munmap while the slot stays bound: the kernel keeps the stale userspace_addr. The memfd behind anonymous
    /// memory is closed too, so its pages go as those of a shared anonymous mapping would (a handoff refuses a VM
    /// with such a slot: the stale address means nothing in the next process).
    /// </summary>
    public void Unmap()
    {
        _mapping?.Dispose();
        _memfd?.Dispose();
    }

    public void Dispose()
    {
        _mapping?.Dispose();
        _memfd?.Dispose();
    }
}
