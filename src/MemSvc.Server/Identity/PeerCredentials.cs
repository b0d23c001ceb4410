using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace MemSvc.Server.Identity;

/// <summary>
/// The uid of a Unix socket's peer, from SO_PEERCRED: the kernel fills it at connect time and the peer cannot forge
/// it. Both the caller's identity and the per-peer connection limit are keyed by it.
/// </summary>
internal static class PeerCredentials
{
    // SOL_SOCKET and SO_PEERCRED on Linux; struct ucred is { pid_t pid; uid_t uid; gid_t gid; }.
    private const int SolSocket = 1;
    private const int SoPeerCred = 17;
    private const int UcredSize = 12;

    /// <summary>The peer's process id at connect time, or null as for <see cref="Uid"/>.</summary>
    public static int? Pid(Socket? socket) => Read(socket) is { } ucred ? (int)ucred.Pid : null;

    /// <summary>The peer's uid, or null for a socket that is not a Unix domain socket or whose credentials cannot be read.</summary>
    public static uint? Uid(Socket? socket) => Read(socket)?.Uid;

    private static (uint Pid, uint Uid)? Read(Socket? socket)
    {
        if (socket is null || socket.AddressFamily != AddressFamily.Unix || !OperatingSystem.IsLinux())
        {
            return null;
        }

        Span<byte> ucred = stackalloc byte[UcredSize];
        var length = socket.GetRawSocketOption(SolSocket, SoPeerCred, ucred);
        return length < UcredSize ? null : (MemoryMarshal.Read<uint>(ucred[..4]), MemoryMarshal.Read<uint>(ucred[4..8]));
    }
}
