using System.Globalization;
using System.Net.Sockets;
using MemSvc.Server.Hosting;
using MemSvc.Server.Identity;

namespace MemSvc.Server.Handoff;

/// <summary>
/// The new side's connection to the server handing its VMs off: one per hello (a hello refused for its version is
/// sent again on a new one), kept after the adoption until that server has exited, whose end closes it.
/// </summary>
internal sealed class OldServer : IDisposable
{
    private readonly TimeSpan _timeout;

    private OldServer(Socket socket, string path, TimeSpan timeout)
    {
        _timeout = timeout;
        Socket = socket;
        Path = path;
        Pid = PeerCredentials.Pid(socket);
        Stream = new NetworkStream(socket, ownsSocket: true);
    }

    public Socket Socket { get; }

    public NetworkStream Stream { get; }

    public string Path { get; }

    /// <summary>Its pid by SO_PEERCRED, null when the socket does not say.</summary>
    public int? Pid { get; }

    public static OldServer Connect(string path, TimeSpan timeout)
    {
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        socket.ReceiveTimeout = socket.SendTimeout = (int)Math.Min(timeout.TotalMilliseconds, int.MaxValue);
        try
        {
            socket.Connect(new UnixDomainSocketEndPoint(path));
            return new OldServer(socket, path, timeout);
        }
        catch (SocketException e)
        {
            socket.Dispose();
            throw Refused($"no MemSvc answers on {path}: {e.Message}");
        }
    }

    public static StartupRefusedException Refused(string message) => new(message, StartupExit.HandoffRefused);

    /// <summary>
    /// Whether it said <see cref="HandoffFrameType.Released"/> after the adoption (version 3 on): it has let go of the
    /// journal directory and exits. False when it closed or failed first; only its exit tells then.
    /// </summary>
    public bool ReadReleased()
    {
        try
        {
            return HandoffFrames.Read(Stream, 0).Type == HandoffFrameType.Released;
        }
        catch (Exception e) when (e is IOException or SocketException or InvalidDataException)
        {
            return false;
        }
    }

    /// <summary>
    /// Returns once it has exited: its end of the socket closes (EOF), and its every other descriptor (the listeners
    /// this server binds next, the journal directory's lock) once its last thread has gone.
    /// </summary>
    public void WaitForExit()
    {
        try
        {
            if (Stream.ReadByte() != -1)
            {
                throw Refused($"the MemSvc on {Path} did not exit after handing off");
            }
        }
        catch (IOException e)
        {
            throw Refused($"the MemSvc on {Path} did not exit after handing off: {e.Message}");
        }

        if (Pid is not { } id)
        {
            return;
        }

        var started = DateTime.UtcNow;
        while (IsAlive(id))
        {
            if (DateTime.UtcNow - started > _timeout)
            {
                throw Refused($"the MemSvc on {Path} (pid {id}) closed the handoff but did not exit");
            }

            Thread.Sleep(2);
        }
    }

    public void Dispose() => Stream.Dispose();

    // Alive until every thread has left: the leader turns zombie (Z) while others may still be exiting, and the
    // descriptors (the journal directory's lock, the listeners) are closed only when the last thread has gone, which
    // removes it from /proc/<pid>/task.
    private static bool IsAlive(int pid)
    {
        var proc = $"/proc/{pid.ToString(CultureInfo.InvariantCulture)}";
        try
        {
            if (Directory.GetDirectories(proc + "/task").Length > 1)
            {
                return true;
            }

            var stat = File.ReadAllText(proc + "/stat");
            var end = stat.LastIndexOf(')');
            return end < 0 || end + 2 >= stat.Length || stat[end + 2] != 'Z';
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }
}
