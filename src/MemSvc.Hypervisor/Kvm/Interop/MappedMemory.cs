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
