using System.Globalization;
using System.Net.Sockets;
using Google.Protobuf;
using MemSvc.Core.Handoff;
using MemSvc.Core.Vms;
using MemSvc.Server.Hosting;
using MemSvc.Server.Identity;
using MemSvc.Server.Services;
using Microsoft.Extensions.Options;

namespace MemSvc.Server.Handoff;

/// <summary>
/// The new side of a planned handoff (MemSvc:Handoff:TakeOver), before this server listens: ask the server on the
/// socket path for its VMs, adopt them all, tell it so, and wait until it has exited, so that its listeners are free
/// and no moment has two servers serving one VM. Every failure ends start-up (exit 69) with the reason, and leaves
/// the old server serving: it thaws when told the state could not be adopted, or when this process goes away.
/// </summary>
internal sealed class Takeover(IOptions<MemSvcOptions> options, RequestIds requestIds, ILogger<Takeover> logger)
{
    /// <summary>Whether this server took its VMs over from another (the start-up log says so, not "earlier VMs are gone").</summary>
    public bool Happened { get; private set; }

    public void Run(VmManager manager)
    {
        var settings = options.Value;
        if (!settings.Handoff.TakeOver)
        {
            return;
        }

        var place = SocketLocation.Places(settings.SocketPath).FirstOrDefault(p => File.Exists(HandoffPaths.For(p)))
            ?? throw Refused($"MemSvc:Handoff:TakeOver is set, but no MemSvc listens for a handoff at {HandoffPaths.For(settings.SocketPath)}");
        var path = HandoffPaths.For(place);
        var timeout = settings.Handoff.Timeout;
        using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        socket.ReceiveTimeout = socket.SendTimeout = (int)Math.Min(timeout.TotalMilliseconds, int.MaxValue);
        try
        {
            socket.Connect(new UnixDomainSocketEndPoint(path));
        }
        catch (SocketException e)
        {
            throw Refused($"no MemSvc answers on {path}: {e.Message}");
        }

        var pid = PeerCredentials.Pid(socket);
        using var stream = new NetworkStream(socket, ownsSocket: false);
        var state = Exchange(socket, stream, path, manager, timeout);
        try
        {
            WaitForExit(stream, pid, timeout, path);
        }
        catch (StartupRefusedException)
        {
            manager.AbandonAdoption();
            throw;
        }

        // The old server's socket, which its _exit left behind: this server binds its own there next.
        File.Delete(place);
        try
        {
            manager.CompleteTakeover();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // The VMs are adopted and the old server is gone: their journal files, never marked stopped, report them
            // lost at the next start, as after a crash.
            throw new StartupRefusedException($"MemSvc:Journal:Directory '{settings.Journal.Directory}' cannot be taken over: {e.Message}", StartupExit.Configuration);
        }

        Happened = true;
        ServerLog.TookOver(logger, pid ?? 0, path, state);
    }

    private static StartupRefusedException Refused(string message) => new(message, StartupExit.HandoffRefused);

    // Hello, the state, its adoption; returns the state's size.
    private int Exchange(Socket socket, NetworkStream stream, string path, VmManager manager, TimeSpan timeout)
    {
        (HandoffFrameType Type, byte[] Payload) answer;
        byte[] ledger = [];
        IReadOnlyList<System.Runtime.InteropServices.SafeHandle> descriptors = [];
        try
        {
            HandoffFrames.Write(stream, HandoffFrameType.Hello, HandoffFrames.Hello(VmManager.HandoffVersion));
            answer = HandoffFrames.Read(stream);
            if (answer.Type == HandoffFrameType.State)
            {
                var next = HandoffFrames.Read(stream);
                ledger = next.Type == HandoffFrameType.RequestIds ? next.Payload : throw new InvalidDataException($"the state was followed by {next.Type}, not the request_id ledger");
                descriptors = HandoffDescriptors.Receive(socket, timeout);
            }
        }
        catch (Exception e) when (e is IOException or SocketException or InvalidDataException)
        {
            throw Refused($"the MemSvc on {path} did not hand off: {e.Message}");
        }

        if (answer.Type == HandoffFrameType.Refused)
        {
            throw Refused($"the MemSvc on {path} refused the handoff: {HandoffFrames.Text(answer.Payload)}. It serves on");
        }

        if (answer.Type != HandoffFrameType.State)
        {
            throw Refused($"the MemSvc on {path} answered {answer.Type}, not its state");
        }

        try
        {
            // The adopted VMs keep duplicates of what they need; these close once adopted, or not.
            manager.AdoptHandoff(answer.Payload, descriptors);
        }
        catch (HandoffRefusedException e)
        {
            TryWrite(stream, HandoffFrameType.Failed, e.Message);
            throw Refused($"{e.Message}. The MemSvc on {path} serves on");
        }
        finally
        {
            foreach (var descriptor in descriptors)
            {
                descriptor.Dispose();
            }
        }

        try
        {
            requestIds.Import(ledger);
            HandoffFrames.Write(stream, HandoffFrameType.Adopted, []);
        }
        catch (Exception e) when (e is IOException or SocketException or InvalidDataException or InvalidProtocolBufferException)
        {
            // The old process serves on (or is gone): nothing adopted here may touch the journal files it writes.
            manager.AbandonAdoption();
            TryWrite(stream, HandoffFrameType.Failed, e.Message);
            throw Refused($"the handed-off state cannot be adopted: {e.Message}. The MemSvc on {path} serves on");
        }

        return answer.Payload.Length;
    }

    private static void TryWrite(NetworkStream stream, HandoffFrameType type, string text)
    {
        try
        {
            HandoffFrames.WriteText(stream, type, text);
        }
        catch (Exception e) when (e is IOException or SocketException)
        {
            // The old process finds the connection gone instead, and thaws all the same.
        }
    }

    // The old process exits at once when told: its end of the socket closes (EOF), and its every other descriptor (the
    // listeners this server binds next, the journal directory's lock) once its last thread has gone.
    private static void WaitForExit(NetworkStream stream, int? pid, TimeSpan timeout, string path)
    {
        try
        {
            if (stream.ReadByte() != -1)
            {
                throw Refused($"the MemSvc on {path} did not exit after handing off");
            }
        }
        catch (IOException e)
        {
            throw Refused($"the MemSvc on {path} did not exit after handing off: {e.Message}");
        }

        if (pid is not { } id)
        {
            return;
        }

        var started = DateTime.UtcNow;
        while (IsAlive(id))
        {
            if (DateTime.UtcNow - started > timeout)
            {
                throw Refused($"the MemSvc on {path} (pid {id}) closed the handoff but did not exit");
            }

            Thread.Sleep(2);
        }
    }

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
