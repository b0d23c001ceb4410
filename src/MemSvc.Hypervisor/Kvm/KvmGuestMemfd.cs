namespace MemSvc.Hypervisor.Kvm;

/// <summary>
/// A guest_memfd of the kvm backend. The host mapping used by <see cref="ReadMapped"/> and
/// <see cref="WriteMapped"/> is made on first use and unmapped on <see cref="Dispose"/>, which also closes the
/// fd: after that only memslot mappings (which hold their own reference to the file) keep it alive.
/// </summary>
public sealed class KvmGuestMemfd : IGuestMemfd
{
    private readonly Lock _lock = new();
    private readonly GuestMemfdFd _fd;
    private MappedMemory? _mapping;
    private bool _closed;

    internal KvmGuestMemfd(GuestMemfdFd fd, ulong size, GuestMemfdFlags flags)
    {
        _fd = fd;
        Size = size;
        Flags = flags;
        Inode = fd.Stat().Inode;
    }

    public ulong Size { get; }

    public GuestMemfdFlags Flags { get; }

    public ulong Inode { get; }

    public bool IsClosed
    {
        get
        {
            lock (_lock)
            {
                return _closed;
            }
        }
    }

    /// <summary>The fd, for the VM that binds this file to a memslot (it adds a reference for the ioctl).</summary>
    internal FileDescriptor Handle => _fd.Handle;

    public void Fallocate(FallocateMode mode, long offset, long length)
    {
        lock (_lock)
        {
            ThrowIfClosed("fallocate");
            _fd.Fallocate((int)mode, offset, length);
        }
    }

    public void ReadMapped(ulong offset, Span<byte> destination)
    {
        lock (_lock)
        {
            HostView("read", offset, (ulong)destination.Length).CopyTo(destination);
        }
    }

    public void WriteMapped(ulong offset, ReadOnlySpan<byte> source)
    {
        lock (_lock)
        {
            source.CopyTo(HostView("write", offset, (ulong)source.Length));
        }
    }

    public void Dispose()
    {
        lock (_lock)
        {
            _closed = true;
            _mapping?.Dispose();
            _fd.Dispose();
        }
    }

    /// <summary>
    /// A new MAP_SHARED mapping of [offset, offset+length) for a memslot's shared side; at <paramref name="preferredAddress"/>
    /// when it is given and free.
    /// </summary>
    internal MappedMemory MapForSlot(ulong offset, ulong length, ulong preferredAddress = 0)
    {
        lock (_lock)
        {
            ThrowIfClosed("mmap");
            return preferredAddress == 0 ? _fd.Map(offset, length) : MappedMemory.OfFilePreferably(_fd.Handle, offset, length, preferredAddress);
        }
    }

    // Refuses, with the errno the kernel's mmap or fault path would give, every access that would SIGBUS.
    private unsafe Span<byte> HostView(string operation, ulong offset, ulong length)
    {
        ThrowIfClosed(operation);
        if (!Flags.HasFlag(GuestMemfdFlags.Mmap))
        {
            throw new HypervisorException(Errno.ENODEV, "mmap", "this guest_memfd was created without GUEST_MEMFD_FLAG_MMAP, so the host cannot map it");
        }

        if (!Flags.HasFlag(GuestMemfdFlags.InitShared))
        {
            throw new HypervisorException(Errno.EFAULT, operation, "the pages of a guest_memfd without GUEST_MEMFD_FLAG_INIT_SHARED are private: a host access would SIGBUS", "offset");
        }

        if (offset > Size || length > Size - offset)
        {
            throw new HypervisorException(Errno.EFAULT, operation, $"[{offset}, {offset}+{length}) reaches past the file's {Size} bytes: a host access would SIGBUS", "offset");
        }

        if (length > int.MaxValue)
        {
            throw new HypervisorException(Errno.EINVAL, operation, "one access copies at most 2 GiB", "length");
        }

        _mapping ??= _fd.Map(0, Size);

        // Sound: the mapping covers the whole file and stays mapped while _lock is held (only Dispose, under the
        // same lock, unmaps it); the range was checked to lie inside the file, and INIT_SHARED pages of a VM
        // without private memory never fault with SIGBUS.
        return new Span<byte>((byte*)_mapping.Address + offset, (int)length);
    }

    private void ThrowIfClosed(string operation)
    {
        if (_closed)
        {
            throw new HypervisorException(Errno.EBADF, operation, "the guest_memfd is closed");
        }
    }
}
