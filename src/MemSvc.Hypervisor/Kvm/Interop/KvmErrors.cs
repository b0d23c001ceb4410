using System.Runtime.InteropServices;

namespace MemSvc.Hypervisor.Kvm;

/// <summary>Turns the errno of the last failed libc call into a <see cref="HypervisorException"/>, unchanged.</summary>
internal static class KvmErrors
{
    public static HypervisorException LastError(string operation, string context)
    {
        var errno = Marshal.GetLastPInvokeError();
        return FromErrno(errno, operation, context);
    }

    public static HypervisorException FromErrno(int errno, string operation, string context) =>
        new((Errno)errno, operation, $"{context}: the kernel returned {Name(errno)} ({Marshal.GetPInvokeErrorMessage(errno)})");

    public static string Name(int errno) =>
        Enum.IsDefined((Errno)errno) ? ((Errno)errno).ToString() : $"errno {errno}";
}
