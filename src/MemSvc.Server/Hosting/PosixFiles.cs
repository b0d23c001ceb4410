using System.Buffers.Binary;
using System.Globalization;
using System.Runtime.InteropServices;

namespace MemSvc.Server.Hosting;

/// <summary>
/// The little of POSIX file ownership the socket needs and .NET does not expose: who owns a path (lstat, so a
/// symlink is judged as itself), who this process is, and giving the socket a group.
/// </summary>
internal static partial class PosixFiles
{
    // struct stat on x86-64: st_mode at 24, st_uid at 28, st_gid at 32; 144 bytes in all.
    private const int StatSize = 144;
    private const int ModeOffset = 24;
    private const int UidOffset = 28;
    private const uint FileTypeMask = 0xF000;
    private const uint DirectoryType = 0x4000;

    /// <summary>Owner, group, mode bits and whether it is a directory, without following a final symlink; null if lstat fails.</summary>
    public static (uint Uid, uint Gid, UnixFileMode Mode, bool IsDirectory)? Lstat(string path)
    {
        var buffer = new byte[StatSize];
        if (NativeLstat(path, buffer) != 0)
        {
            return null;
        }

        var mode = BinaryPrimitives.ReadUInt32LittleEndian(buffer.AsSpan(ModeOffset));
        var uid = BinaryPrimitives.ReadUInt32LittleEndian(buffer.AsSpan(UidOffset));
        var gid = BinaryPrimitives.ReadUInt32LittleEndian(buffer.AsSpan(UidOffset + 4));
        return (uid, gid, (UnixFileMode)(mode & 0xFFF), (mode & FileTypeMask) == DirectoryType);
    }

    public static uint EffectiveUserId => NativeGeteuid();

    /// <summary>Gives <paramref name="path"/> the group <paramref name="gid"/>, keeping its owner; the errno on failure.</summary>
    public static int? ChangeGroup(string path, uint gid) =>
        NativeLchown(path, uint.MaxValue, gid) == 0 ? null : Marshal.GetLastPInvokeError();

    /// <summary>A group given as a number or as a name in /etc/group; null when there is no such group.</summary>
    public static uint? ResolveGroup(string group)
    {
        if (uint.TryParse(group, NumberStyles.None, CultureInfo.InvariantCulture, out var gid))
        {
            return gid;
        }

        foreach (var line in File.ReadLines("/etc/group"))
        {
            var fields = line.Split(':');
            if (fields.Length >= 3 && fields[0] == group && uint.TryParse(fields[2], NumberStyles.None, CultureInfo.InvariantCulture, out gid))
            {
                return gid;
            }
        }

        return null;
    }

    [LibraryImport("libc", EntryPoint = "lstat", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int NativeLstat(string path, [Out] byte[] buffer);

    [LibraryImport("libc", EntryPoint = "geteuid")]
    private static partial uint NativeGeteuid();

    [LibraryImport("libc", EntryPoint = "lchown", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int NativeLchown(string path, uint owner, uint group);
}
