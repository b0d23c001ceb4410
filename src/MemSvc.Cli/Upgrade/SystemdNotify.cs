using System.Net.Sockets;
using System.Text;

namespace MemSvc.Cli.Upgrade;

/// <summary>
/// Tells systemd the service's new main process (sd_notify MAINPID=), when memsvcctl runs as the unit's ExecReload=
/// with NotifyAccess=all. The old main process exits during the reload; systemd waits for the reload command to end,
/// and with the new main pid it keeps the unit running instead of stopping it (and killing the new process with the
/// rest of the unit's cgroup).
/// </summary>
internal static class SystemdNotify
{
    /// <summary>Sends MAINPID= to $NOTIFY_SOCKET; false when there is none (not run by systemd).</summary>
    public static bool MainPid(string? notifySocket, int pid)
    {
        if (string.IsNullOrEmpty(notifySocket))
        {
            return false;
        }

        // "@name" is an abstract socket: its name starts with a NUL byte.
        var path = notifySocket[0] == '@' ? "\0" + notifySocket[1..] : notifySocket;
        using var socket = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
        socket.Connect(new UnixDomainSocketEndPoint(path));
        socket.Send(Encoding.ASCII.GetBytes($"MAINPID={pid}\nSTATUS=took over from the previous MemSvc process\n"));
        return true;
    }
}
