using System.Runtime.InteropServices;

namespace MemSvc.Hypervisor.Kvm;

/// <summary>
/// One mmap(2) region, unmapped exactly once (on <see cref="Dispose"/> or finalization). Owners read and write it
/// only while it is mapped and under their own lock, so no access can race with the munmap.
/// </summary>
internal sealed class MappedMemory : SafeHandle
{
    private MappedMemory(nint address, ulong length)
        : base(invalidHandleValue: 0, ownsHandle: true)
    {
        SetHandle(address);
        Length = length;
    }

    public ulong Length { get; }

    public override bool IsInvalid => handle == 0;

    /// <summary>The first mapped byte; valid while the mapping is not disposed.</summary>
    public nint Address => handle;

    /// <summary>Zeroed shared anonymous memory, reserved lazily (MAP_NORESERVE): pages cost only once touched.</summary>
    public static MappedMemory Anonymous(ulong length)
    {
        var address = LibC.Mmap(0, checked((nuint)length), LibC.PROT_READ | LibC.PROT_WRITE, LibC.MAP_SHARED | LibC.MAP_ANONYMOUS | LibC.MAP_NORESERVE, -1, 0);
        return Checked(address, length, "mmap(MAP_SHARED|MAP_ANONYMOUS)");
    }

    /// <summary>A MAP_SHARED read/write mapping of <paramref name="fd"/> at <paramref name="offset"/>; it holds a reference to the file.</summary>
    public static MappedMemory OfFile(SafeHandle fd, ulong offset, ulong length)
    {
        var address = LibC.Mmap(0, checked((nuint)length), LibC.PROT_READ | LibC.PROT_WRITE, LibC.MAP_SHARED, fd, unchecked((long)offset));
        return Checked(address, length, "mmap(MAP_SHARED)");
    }

    /// <summary>
    /// A memfd of <paramref name="length"/> bytes (sparse: pages cost only once touched) and its MAP_SHARED mapping.
    /// Shared memory MemSvc allocates lives in a memfd rather than MAP_ANONYMOUS so that a planned handoff can pass
    /// it (SCM_RIGHTS) to the next process: shared anonymous memory has no descriptor to pass.
    /// </summary>
    public static (FileDescriptor Memfd, MappedMemory Mapping) Memfd(string name, ulong length)
    {
        var fd = FileDescriptor.FromResult(LibC.MemfdCreate(name, LibC.MFD_CLOEXEC), "memfd_create");
        try
        {
            if (LibC.Ftruncate(fd, checked((long)length)) != 0)
            {
                throw KvmErrors.LastError("ftruncate", $"sizing the memfd '{name}' to {length} bytes failed");
            }

            return (fd, OfFile(fd, 0, length));
        }
        catch
        {
            fd.Dispose();
            throw;
        }
    }

    /// <summary>
    /// A MAP_SHARED mapping of <paramref name="fd"/> at <paramref name="address"/> when nothing is mapped there
    /// (MAP_FIXED_NOREPLACE: never over a mapping of this process), else wherever the kernel puts it.
    /// </summary>
    public static MappedMemory OfFilePreferably(SafeHandle fd, ulong offset, ulong length, ulong address)
    {
        var placed = LibC.Mmap((nint)address, checked((nuint)length), LibC.PROT_READ | LibC.PROT_WRITE, LibC.MAP_SHARED | LibC.MAP_FIXED_NOREPLACE, fd, unchecked((long)offset));
        if (placed != LibC.MapFailed)
        {
            // A kernel before 4.17 takes the flag for a hint and may place it elsewhere: that is a fine mapping too.
            return new MappedMemory(placed, length);
        }

        return OfFile(fd, offset, length);
    }

    protected override bool ReleaseHandle() => LibC.Munmap(handle, (nuint)Length) == 0;

    private static MappedMemory Checked(nint address, ulong length, string what)
    {
        if (address == LibC.MapFailed)
        {
            throw KvmErrors.LastError("mmap", $"{what} of {length} bytes failed");
        }

        return new MappedMemory(address, length);
    }
}
