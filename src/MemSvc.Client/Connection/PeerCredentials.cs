using System.Buffers.Binary;
using System.Globalization;
using System.Net.Sockets;

namespace MemSvc.Client.Connection;

/// <summary>Who is at the other end of a Unix socket (SO_PEERCRED), and who we are, without native code of our own.</summary>
internal static class PeerCredentials
{
    private const int SolSocket = 1;
    private const int SoPeerCred = 17;

    /// <summary>This process's effective uid, from /proc (the runtime exposes none).</summary>
    public static uint EffectiveUid { get; } = ReadEffectiveUid();

    /// <summary>The uid of the process that listens on a connected Unix socket, as the kernel recorded it at listen(2).</summary>
    public static uint PeerUid(Socket socket)
    {
        // struct ucred { pid_t pid; uid_t uid; gid_t gid; }: three native-endian 32-bit fields.
        Span<byte> ucred = stackalloc byte[12];
        var length = socket.GetRawSocketOption(SolSocket, SoPeerCred, ucred);
        if (length < 8)
        {
            throw new IOException($"SO_PEERCRED gave {length} bytes");
        }

        return BinaryPrimitives.ReadUInt32LittleEndian(ucred[4..8]);
    }

    private static uint ReadEffectiveUid()
    {
        // "Uid:\treal\teffective\tsaved\tfs"
        var line = File.ReadLines("/proc/self/status").First(l => l.StartsWith("Uid:", StringComparison.Ordinal));
        return uint.Parse(line.Split('\t', StringSplitOptions.RemoveEmptyEntries)[2], CultureInfo.InvariantCulture);
    }
}
