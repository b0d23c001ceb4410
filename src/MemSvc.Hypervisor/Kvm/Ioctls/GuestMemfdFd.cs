using System.Buffers.Binary;

namespace MemSvc.Hypervisor.Kvm;

/// <summary>A guest_memfd fd and the file operations KVM gives it (fallocate, mmap, fstat).</summary>
internal sealed class GuestMemfdFd : IDisposable
{
    public GuestMemfdFd(FileDescriptor fd)
    {
        Handle = fd;
    }

    public FileDescriptor Handle { get; }

    /// <summary>fallocate(2) with the mode bits as given (FALLOC_FL_*).</summary>
    public void Fallocate(int mode, long offset, long length)
    {
        if (LibC.Fallocate(Handle, mode, offset, length) != 0)
        {
            throw KvmErrors.LastError("fallocate", $"fallocate(mode=0x{mode:x}, offset={offset}, length={length}) failed");
        }
    }

    /// <summary>mmap(MAP_SHARED) of [offset, offset+length): ENODEV without GUEST_MEMFD_FLAG_MMAP.</summary>
    public MappedMemory Map(ulong offset, ulong length) => MappedMemory.OfFile(Handle, offset, length);

    /// <summary>fstat(2): the inode number and size.</summary>
    public unsafe (ulong Inode, long Size) Stat()
    {
        var buffer = stackalloc byte[LibC.StatSize];

        // Sound: the buffer is sizeof(struct stat) on x86-64 and lives on this frame for the whole call.
        if (LibC.Fstat(Handle, buffer) != 0)
        {
            throw KvmErrors.LastError("fstat", "fstat of a guest_memfd failed");
        }

        var bytes = new ReadOnlySpan<byte>(buffer, LibC.StatSize);
        return (BinaryPrimitives.ReadUInt64LittleEndian(bytes[LibC.StatInoOffset..]),
            BinaryPrimitives.ReadInt64LittleEndian(bytes[LibC.StatSizeOffset..]));
    }

    public void Dispose() => Handle.Dispose();
}
