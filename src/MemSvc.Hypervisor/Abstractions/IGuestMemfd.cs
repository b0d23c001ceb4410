namespace MemSvc.Hypervisor;

/// <summary>
/// A guest_memfd file (KVM_CREATE_GUEST_MEMFD). It holds a reference on its VM: it stays usable after the VM
/// is disposed (fallocate still works), and disposing it is closing the fd (bound memslots stay, as in KVM).
/// </summary>
public interface IGuestMemfd : IDisposable
{
    /// <summary>File size in bytes (st_size); fixed at creation.</summary>
    ulong Size { get; }

    GuestMemfdFlags Flags { get; }

    /// <summary>Inode number (st_ino): distinct for every file.</summary>
    ulong Inode { get; }

    /// <summary>True once disposed (the fd is closed).</summary>
    bool IsClosed { get; }

    /// <summary>
    /// fallocate(2) on the file: KeepSize allocates [offset, offset+length), KeepSize|PunchHole frees it (punched
    /// pages read back as zero). Signed like loff_t so that the kernel's checks on negative values can be asked.
    /// </summary>
    void Fallocate(FallocateMode mode, long offset, long length);

    /// <summary>Reads through the host mapping (needs Mmap; private pages raise EFAULT where the kernel would SIGBUS).</summary>
    void ReadMapped(ulong offset, Span<byte> destination);

    /// <summary>Writes through the host mapping (needs Mmap; private pages raise EFAULT where the kernel would SIGBUS).</summary>
    void WriteMapped(ulong offset, ReadOnlySpan<byte> source);
}
