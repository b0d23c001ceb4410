using System.Runtime.InteropServices;

namespace MemSvc.Hypervisor.Kvm;

/// <summary>ioctl(2) with the kernel's errno kept: the one place the fd layer calls into libc for ioctls.</summary>
internal static class Ioctl
{
    /// <summary>An ioctl whose argument is a value (or none): returns the non-negative result or throws the errno.</summary>
    public static int Value(SafeHandle fd, string operation, ulong request, ulong argument)
    {
        var result = LibC.Ioctl(fd, (nuint)request, unchecked((nint)argument));
        if (result < 0)
        {
            throw KvmErrors.LastError(operation, $"{operation} failed");
        }

        return result;
    }

    /// <summary>An ioctl whose argument points at <paramref name="argument"/>: returns the non-negative result or throws the errno.</summary>
    public static unsafe int Struct<T>(SafeHandle fd, string operation, ulong request, ref T argument)
        where T : unmanaged
    {
        int result;

        // Sound: T is unmanaged, so pinning it gives the kernel a stable pointer to exactly sizeof(T) bytes,
        // which is the size the request number encodes; the pin lasts until the ioctl returns.
        fixed (T* pointer = &argument)
        {
            result = LibC.Ioctl(fd, (nuint)request, (nint)pointer);
        }

        if (result < 0)
        {
            throw KvmErrors.LastError(operation, $"{operation} failed");
        }

        return result;
    }

    /// <summary>An ioctl on a raw buffer (variable-length structs such as kvm_cpuid2): returns the result or throws the errno.</summary>
    public static unsafe int Buffer(SafeHandle fd, string operation, ulong request, Span<byte> buffer)
    {
        int result;

        // Sound: the span is pinned for the call and the caller sized it to hold what the request describes
        // (a header plus the entries that header counts).
        fixed (byte* pointer = buffer)
        {
            result = LibC.Ioctl(fd, (nuint)request, (nint)pointer);
        }

        if (result < 0)
        {
            throw KvmErrors.LastError(operation, $"{operation} failed");
        }

        return result;
    }
}
