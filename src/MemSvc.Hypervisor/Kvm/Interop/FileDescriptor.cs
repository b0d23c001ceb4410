using System.Runtime.InteropServices;

namespace MemSvc.Hypervisor.Kvm;

/// <summary>
/// An owned Linux file descriptor: closed exactly once, when disposed or finalized. Calls that take it add a
/// reference for their duration, so a concurrent Dispose cannot close (and let the kernel reuse) the number
/// while an ioctl is using it.
/// </summary>
internal sealed class FileDescriptor : SafeHandle
{
    public FileDescriptor(int fd)
        : base(invalidHandleValue: -1, ownsHandle: true)
    {
        SetHandle(fd);
    }

    public override bool IsInvalid => handle == -1;

    /// <summary>The fd number; only meaningful while the handle is open.</summary>
    public int Number => (int)handle;

    /// <summary>open(2) with O_CLOEXEC; errno becomes a <see cref="HypervisorException"/>.</summary>
    public static FileDescriptor Open(string path, int flags)
    {
        var fd = LibC.Open(path, flags | LibC.O_CLOEXEC);
        if (fd < 0)
        {
            throw KvmErrors.LastError("open", $"open(\"{path}\") failed");
        }

        return new FileDescriptor(fd);
    }

    /// <summary>Wraps a file descriptor number returned by a call, or throws that call's errno.</summary>
    public static FileDescriptor FromResult(int fd, string operation)
    {
        if (fd < 0)
        {
            throw KvmErrors.LastError(operation, $"{operation} returned no file descriptor");
        }

        return new FileDescriptor(fd);
    }

    /// <summary>
    /// A second descriptor of the same open file (F_DUPFD_CLOEXEC): whoever receives it owns it, so a handoff can
    /// pass a VM's files while the VM keeps its own, and either may close first.
    /// </summary>
    public static FileDescriptor Duplicate(SafeHandle fd, string what) =>
        FromResult(LibC.Fcntl(fd, LibC.F_DUPFD_CLOEXEC, 0), $"fcntl(F_DUPFD_CLOEXEC) of {what}");

    protected override bool ReleaseHandle() => LibC.Close((int)handle) == 0;
}
