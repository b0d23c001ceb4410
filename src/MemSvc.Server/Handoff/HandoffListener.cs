using System.Net.Sockets;
using MemSvc.Core.Handoff;
using MemSvc.Core.Vms;
using MemSvc.Server.Hosting;
using MemSvc.Server.Identity;
using MemSvc.Server.Services;
using Microsoft.Extensions.Options;

namespace MemSvc.Server.Handoff;

/// <summary>
/// The old side of a planned handoff: a private Unix socket beside the server's own (mode 0600, and a peer of
/// another uid is dropped on its SO_PEERCRED), where a new MemSvc process asks for the VMs. One handoff at a time:
/// hello and version check, then the gate closes and in-flight calls finish, the vCPUs freeze, the state goes over,
/// and once the new process says it adopted everything this process exits at once. A refusal before the freeze or
/// any failure after it leaves this server serving as before.
/// </summary>
internal sealed class HandoffListener(
    Listeners listeners,
    VmManager manager,
    RequestIds requestIds,
    HandoffGate gate,
    IOptions<MemSvcOptions> options,
    IHostApplicationLifetime lifetime,
    ILogger<HandoffListener> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // The socket's place is known once Kestrel is configured, and a new server's own handoff socket must not
        // exist before it listens on the main socket in the old one's place.
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using (lifetime.ApplicationStarted.Register(() => started.TrySetResult()))
        using (stoppingToken.Register(() => started.TrySetCanceled(stoppingToken)))
        {
            try
            {
                await started.Task.ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }

        if (listeners.Socket is not { } socket)
        {
            return;
        }

        var path = HandoffPaths.For(socket.Path);
        using var listener = Bind(path);
        if (listener is null)
        {
            return;
        }

        ServerLog.HandoffListening(logger, path);
        while (!stoppingToken.IsCancellationRequested)
        {
            Socket peer;
            try
            {
                peer = await listener.AcceptAsync(stoppingToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }

            // Blocking reads with timeouts, on a thread of its own: a handoff is rare and waits on the other process.
            using (peer)
            {
                await Task.Factory.StartNew(() => Serve(peer), stoppingToken, TaskCreationOptions.LongRunning, TaskScheduler.Default).ConfigureAwait(false);
            }
        }
    }

    private Socket? Bind(string path)
    {
        if (File.Exists(path))
        {
            if (Answers(path))
            {
                ServerLog.HandoffSocketTaken(logger, path);
                return null;
            }

            File.Delete(path);
        }

        var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            listener.Bind(new UnixDomainSocketEndPoint(path));
            File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
            listener.Listen(1);
            return listener;
        }
        catch
        {
            listener.Dispose();
            throw;
        }
    }

    private static bool Answers(string path)
    {
        using var probe = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            probe.Connect(new UnixDomainSocketEndPoint(path));
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    private void Serve(Socket peer)
    {
        var own = PosixFiles.EffectiveUserId;
        if (PeerCredentials.Uid(peer) is not { } uid || uid != own)
        {
            ServerLog.HandoffPeerRefused(logger, PeerCredentials.Uid(peer)?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "unknown", own);
            return;
        }

        var timeout = options.Value.Handoff.Timeout;
        peer.ReceiveTimeout = peer.SendTimeout = (int)Math.Min(timeout.TotalMilliseconds, int.MaxValue);
        using var stream = new NetworkStream(peer, ownsSocket: false);
        try
        {
            var (type, payload) = HandoffFrames.Read(stream, HandoffFrames.MaxHelloBytes);
            var version = type == HandoffFrameType.Hello ? HandoffFrames.ReadHello(payload) : null;
            if (version is not { } speaks || !VmManager.SpeaksHandoff(speaks))
            {
                // A new process refused for its version asks again with an older one it speaks, if any: the words
                // of HandoffFrames.VersionRefusalWords are how it tells.
                Refuse(stream, version is null
                    ? "the peer did not start with a MemSvc handoff hello"
                    : $"the new process {HandoffFrames.VersionRefusalWords} {version}, and this MemSvc (pid {Environment.ProcessId}) writes versions {VmManager.OldestHandoffVersion} to {VmManager.HandoffVersion} only; it cannot take over (upgrade through a release that reads one of them)");
                return;
            }

            if (manager.WhyNoHandoff() is { } why)
            {
                Refuse(stream, why);
                return;
            }

            // Before anything stops: the code between the freeze and the exit, compiled to its optimized tier.
            RehearseHandoff.UntilCompiled(logger);
            HandOff(peer, stream, timeout, speaks);
        }
        catch (Exception e) when (e is IOException or SocketException or InvalidDataException)
        {
            ServerLog.HandoffRefused(logger, $"the handoff connection failed before anything stopped: {e.Message}");
        }
    }

    // The new process runs the VMs once it reads this; a release of version 2 waits for this process's exit instead.
    private void Release(Stream stream)
    {
        manager.ReleaseJournalDirectory();
        try
        {
            HandoffFrames.Write(stream, HandoffFrameType.Released, []);
        }
        catch (Exception e) when (e is IOException or SocketException)
        {
            // The new process has the VMs all the same: it learns of this process's end from its exit.
        }
    }

    private void Refuse(Stream stream, string reason)
    {
        ServerLog.HandoffRefused(logger, reason);
        HandoffFrames.WriteText(stream, HandoffFrameType.Refused, reason);
    }

    private void HandOff(Socket peer, Stream stream, TimeSpan timeout, int version)
    {
        // Version 3 copies the journals while the VMs run: the new process has read them when it answers.
        var copy = version >= 3 ? manager.CopyJournalsForHandoff(version) : null;
        if (copy is not null)
        {
            HandoffFrames.Write(stream, HandoffFrameType.Journals, copy.Serialized);
            var (answer, why) = HandoffFrames.Read(stream, HandoffFrames.MaxHelloBytes);
            if (answer != HandoffFrameType.Copied)
            {
                ServerLog.HandoffRefused(logger, $"the new process did not read the copied journals: {(answer == HandoffFrameType.Failed ? HandoffFrames.Text(why) : answer.ToString())}");
                return;
            }
        }

        PauseHeap.Prepare();
        if (!gate.Close(timeout))
        {
            gate.Open();
            Refuse(stream, $"calls in flight did not finish within {timeout.TotalSeconds} s");
            return;
        }

        byte[] state;
        int vms;

        // Duplicates of the descriptors behind kvm VMs' memory: passed, then closed here (or left to _exit).
        var descriptors = new List<System.Runtime.InteropServices.SafeHandle>();
        try
        {
            (state, vms) = manager.FreezeForHandoff(timeout, descriptors, version, copy);
        }
        catch (HandoffRefusedException e)
        {
            gate.Open();
            Refuse(stream, e.Message);
            return;
        }

        string reason;
        try
        {
            HandoffFrames.Write(stream, HandoffFrameType.State, state);
            HandoffFrames.Write(stream, HandoffFrameType.RequestIds, requestIds.Export());
            HandoffDescriptors.Send(peer, descriptors, timeout);
            var (type, payload) = HandoffFrames.Read(stream);
            if (type == HandoffFrameType.Adopted)
            {
                ServerLog.HandedOff(logger, vms, state.Length);
                if (version >= 3)
                {
                    Release(stream);
                }

                // The console logger writes from a queue of its own: this line is sure to be out before _exit.
                Console.Error.WriteLine($"memsvc: handed off to the new process; pid {Environment.ProcessId} exits");
                ImmediateExit.Now(0);
            }

            reason = type == HandoffFrameType.Failed ? $"the new process could not adopt the state: {HandoffFrames.Text(payload)}" : $"the new process answered {type}";
        }
        catch (Exception e) when (e is IOException or SocketException or InvalidDataException)
        {
            reason = $"the new process went away: {e.Message}";
        }

        foreach (var descriptor in descriptors)
        {
            descriptor.Dispose();
        }

        manager.ThawVcpus();
        gate.Open();
        ServerLog.HandoffCalledOff(logger, reason);
    }
}
