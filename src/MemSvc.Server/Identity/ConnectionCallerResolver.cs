using System.Globalization;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using Grpc.Core;
using MemSvc.Core.Identity;
using Microsoft.AspNetCore.Connections.Features;

namespace MemSvc.Server.Identity;

/// <summary>
/// A development identity taken from the connection: "uid:{n}" for a Unix socket peer (SO_PEERCRED, which
/// the kernel fills and the peer cannot forge), "local" for loopback TCP, which carries no identity.
/// </summary>
internal sealed class ConnectionCallerResolver : ICallerResolver
{
    public const string LoopbackIdentity = "local";

    private static readonly CallerIdentity Loopback = new(LoopbackIdentity);

    // SOL_SOCKET and SO_PEERCRED on Linux; struct ucred is { pid_t pid; uid_t uid; gid_t gid; }.
    private const int SolSocket = 1;
    private const int SoPeerCred = 17;
    private const int UcredSize = 12;

    public CallerIdentity Resolve(ServerCallContext context)
    {
        var socket = context.GetHttpContext().Features.Get<IConnectionSocketFeature>()?.Socket;
        if (socket is null || socket.AddressFamily != AddressFamily.Unix || !OperatingSystem.IsLinux())
        {
            return Loopback;
        }

        Span<byte> ucred = stackalloc byte[UcredSize];
        var length = socket.GetRawSocketOption(SolSocket, SoPeerCred, ucred);
        if (length < UcredSize)
        {
            return Loopback;
        }

        var uid = MemoryMarshal.Read<uint>(ucred[4..8]);
        return new CallerIdentity("uid:" + uid.ToString(CultureInfo.InvariantCulture));
    }
}
