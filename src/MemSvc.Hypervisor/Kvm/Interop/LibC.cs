using System.Runtime.InteropServices;

namespace MemSvc.Hypervisor.Kvm;

/// <summary>
/// The libc calls the kvm backend needs, one declaration each. Every import sets errno as the last P/Invoke
/// error, so callers can report exactly what the kernel returned.
/// </summary>
internal static partial class LibC
{
    internal const int O_RDWR = 0x2;
    internal const int O_CLOEXEC = 0x80000;

    internal const int PROT_NONE = 0x0;
    internal const int PROT_READ = 0x1;
    internal const int PROT_WRITE = 0x2;
    internal const int MAP_SHARED = 0x01;
    internal const int MAP_ANONYMOUS = 0x20;
    internal const int MAP_NORESERVE = 0x4000;

    /// <summary>Place the mapping exactly at the hint or fail with EEXIST, never over an existing mapping (Linux 4.17).</summary>
    internal const int MAP_FIXED_NOREPLACE = 0x100000;
    internal static readonly nint MapFailed = -1;

    internal const int MADV_REMOVE = 9;

    internal const uint MFD_CLOEXEC = 0x1;
    internal const int F_DUPFD_CLOEXEC = 1030;
    internal const int SOL_SOCKET = 1;
    internal const int SCM_RIGHTS = 1;
    internal const int MSG_CTRUNC = 0x8;
    internal const int MSG_NOSIGNAL = 0x4000;
    internal const int MSG_CMSG_CLOEXEC = 0x40000000;
    internal const short POLLIN = 0x1;
    internal const short POLLOUT = 0x4;
    internal const int EFD_CLOEXEC = 0x80000;

    /// <summary>Size of struct utsname on Linux (six 65-byte fields) and the offset of its release field.</summary>
    internal const int UtsnameSize = 390;
    internal const int UtsnameReleaseOffset = 130;

    /// <summary>Size of struct stat on x86-64 and the offsets of st_ino and st_size.</summary>
    internal const int StatSize = 144;
    internal const int StatInoOffset = 8;
    internal const int StatSizeOffset = 48;
    internal const int StatGidOffset = 32;

    private const string Lib = "libc";

    [LibraryImport(Lib, EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int Open(string path, int flags);

    [LibraryImport(Lib, EntryPoint = "close", SetLastError = true)]
    internal static partial int Close(int fd);

    // ioctl is variadic in C; on x86-64 a third integer argument is passed exactly like a fixed one.
    [LibraryImport(Lib, EntryPoint = "ioctl", SetLastError = true)]
    internal static partial int Ioctl(SafeHandle fd, nuint request, nint argument);

    [LibraryImport(Lib, EntryPoint = "mmap", SetLastError = true)]
    internal static partial nint Mmap(nint address, nuint length, int protection, int flags, int fd, long offset);

    [LibraryImport(Lib, EntryPoint = "mmap", SetLastError = true)]
    internal static partial nint Mmap(nint address, nuint length, int protection, int flags, SafeHandle fd, long offset);

    [LibraryImport(Lib, EntryPoint = "munmap", SetLastError = true)]
    internal static partial int Munmap(nint address, nuint length);

    [LibraryImport(Lib, EntryPoint = "madvise", SetLastError = true)]
    internal static partial int Madvise(nint address, nuint length, int advice);

    [LibraryImport(Lib, EntryPoint = "fallocate", SetLastError = true)]
    internal static partial int Fallocate(SafeHandle fd, int mode, long offset, long length);

    [LibraryImport(Lib, EntryPoint = "ftruncate", SetLastError = true)]
    internal static partial int Ftruncate(SafeHandle fd, long length);

    [LibraryImport(Lib, EntryPoint = "fstat", SetLastError = true)]
    internal static unsafe partial int Fstat(SafeHandle fd, byte* statBuffer);

    [LibraryImport(Lib, EntryPoint = "stat", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    internal static unsafe partial int Stat(string path, byte* statBuffer);

    /// <summary>The group that owns <paramref name="path"/>, or null when stat(2) fails.</summary>
    internal static unsafe uint? StatGroupId(string path)
    {
        var buffer = stackalloc byte[StatSize];

        // Sound: the buffer is sizeof(struct stat) on x86-64 and lives on this frame for the whole call.
        if (Stat(path, buffer) != 0)
        {
            return null;
        }

        return System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(new ReadOnlySpan<byte>(buffer + StatGidOffset, 4));
    }

    [LibraryImport(Lib, EntryPoint = "uname", SetLastError = true)]
    internal static unsafe partial int Uname(byte* utsname);

    [LibraryImport(Lib, EntryPoint = "memfd_create", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int MemfdCreate(string name, uint flags);

    [LibraryImport(Lib, EntryPoint = "eventfd", SetLastError = true)]
    internal static partial int Eventfd(uint initialValue, int flags);

    // fcntl is variadic in C; on x86-64 a third integer argument is passed exactly like a fixed one.
    [LibraryImport(Lib, EntryPoint = "fcntl", SetLastError = true)]
    internal static partial int Fcntl(SafeHandle fd, int command, int argument);

    [LibraryImport(Lib, EntryPoint = "mincore", SetLastError = true)]
    internal static unsafe partial int Mincore(nint address, nuint length, byte* vector);

    [LibraryImport(Lib, EntryPoint = "sendmsg", SetLastError = true)]
    internal static unsafe partial nint Sendmsg(SafeHandle socket, MessageHeader* message, int flags);

    [LibraryImport(Lib, EntryPoint = "recvmsg", SetLastError = true)]
    internal static unsafe partial nint Recvmsg(SafeHandle socket, MessageHeader* message, int flags);

    [LibraryImport(Lib, EntryPoint = "poll", SetLastError = true)]
    internal static unsafe partial int Poll(PollFd* fds, nuint count, int timeoutMilliseconds);

    [LibraryImport(Lib, EntryPoint = "gettid")]
    internal static partial int Gettid();

    [LibraryImport(Lib, EntryPoint = "tgkill", SetLastError = true)]
    internal static partial int Tgkill(int processId, int threadId, int signal);

    /// <summary>struct msghdr on x86-64 (56 bytes).</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct MessageHeader
    {
        public nint Name;
        public uint NameLength;
        public nint Iov;
        public nuint IovLength;
        public nint Control;
        public nuint ControlLength;
        public int Flags;
    }

    /// <summary>struct iovec.</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct IoVector
    {
        public nint Base;
        public nuint Length;
    }

    /// <summary>struct pollfd.</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct PollFd
    {
        public int Fd;
        public short Events;
        public short Revents;
    }
}
