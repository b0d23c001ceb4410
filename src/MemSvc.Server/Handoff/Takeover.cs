using System.Globalization;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using Google.Protobuf;
using MemSvc.Core.Handoff;
using MemSvc.Core.Vms;
using MemSvc.Server.Hosting;
using MemSvc.Server.Services;
using Microsoft.Extensions.Options;

namespace MemSvc.Server.Handoff;

/// <summary>
/// The new side of a planned handoff (MemSvc:Handoff:TakeOver), before this server listens: ask the server on the
/// socket path for its VMs (in the newest handoff version both speak), adopt them all and tell it so; it lets go of
/// the journal directory and exits, and the VMs run here from then on. This server listens once it has exited, so
/// that its listeners are free and no moment has two servers serving one VM. Every failure ends start-up (exit 69)
/// with the reason, and leaves the old server serving: it thaws when told the state could not be adopted, or when
/// this process goes away.
/// </summary>
internal sealed class Takeover(IOptions<MemSvcOptions> options, RequestIds requestIds, ILogger<Takeover> logger)
{
    // Set between the adoption and the old server's exit (AwaitOldExit).
    private OldServer? _old;
    private string? _place;

    // What Run took over, for the log line once the vCPUs run.
    private (int? Pid, string Path, int StateBytes, HandoffAdoption Adoption)? _taken;

    /// <summary>Whether this server took its VMs over from another (the start-up log says so, not "earlier VMs are gone").</summary>
    public bool Happened { get; private set; }

    /// <summary>Adopts the old server's VMs; they may run once this returns (the old server has let go of them).</summary>
    public void Run(VmManager manager)
    {
        var settings = options.Value;
        if (!settings.Handoff.TakeOver)
        {
            return;
        }

        var place = SocketLocation.Places(settings.SocketPath).FirstOrDefault(p => File.Exists(HandoffPaths.For(p)))
            ?? throw OldServer.Refused($"MemSvc:Handoff:TakeOver is set, but no MemSvc listens for a handoff at {HandoffPaths.For(settings.SocketPath)}");
        var path = HandoffPaths.For(place);

        // Before the old server freezes anything: its vCPUs wait for this process's first run of the code otherwise.
        RehearseHandoff.UntilCompiled(logger);
        var (old, state, adoption) = Negotiate(path, manager);
        try
        {
            if (adoption.Version < 3 || !old.ReadReleased())
            {
                // A release of version 2 lets go only by exiting (so does one that failed after the adoption).
                old.WaitForExit();
                File.Delete(place);
                old.Dispose();
            }
            else
            {
                (_old, _place) = (old, place);
            }
        }
        catch (StartupRefusedException)
        {
            old.Dispose();
            manager.AbandonAdoption();
            throw;
        }

        try
        {
            manager.CompleteTakeover();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // The VMs are adopted and the old server has let go: their journal files, never marked stopped, report
            // them lost at the next start, as after a crash.
            throw new StartupRefusedException($"MemSvc:Journal:Directory '{settings.Journal.Directory}' cannot be taken over: {e.Message}", StartupExit.Configuration);
        }

        Happened = true;
        _taken = (old.Pid, path, state, adoption);
    }

    /// <summary>
    /// Once CoreHost has run the adopted vCPUs (it let them go at <paramref name="thawed"/>): says what was taken
    /// over, and how long the vCPUs were paused.
    /// </summary>
    public void Resumed(DateTimeOffset thawed)
    {
        if (_taken is not { } taken)
        {
            return;
        }

        var paused = taken.Adoption.FrozenAt is { } frozen
            ? string.Create(CultureInfo.InvariantCulture, $"their vCPUs were paused {(thawed - frozen).TotalMilliseconds:F1} ms, from {frozen.UtcDateTime:HH:mm:ss.ffffff} to {thawed.UtcDateTime:HH:mm:ss.ffffff} UTC")
            : "their vCPUs run (a release of version 2 does not say when it stopped them)";
        ServerLog.TookOver(logger, taken.Pid ?? 0, taken.Path, taken.Adoption.Vms, taken.StateBytes, taken.Adoption.Version, paused);
    }

    /// <summary>Returns once the old server has exited (its listeners are free), before this one listens.</summary>
    public void AwaitOldExit()
    {
        if (_old is not { } old)
        {
            return;
        }

        using (old)
        {
            old.WaitForExit();
        }

        // The old server's socket, which its _exit left behind: this server binds its own there next.
        File.Delete(_place!);
        _old = null;
    }

    // The newest version first; a release that does not speak it refuses with its words for that, and the next older
    // one this build speaks is asked on a new connection. Returns the connection, the state's size and the adoption.
    private (OldServer Old, int StateBytes, HandoffAdoption Adoption) Negotiate(string path, VmManager manager)
    {
        var timeout = options.Value.Handoff.Timeout;
        for (var version = VmManager.HandoffVersion; ; version--)
        {
            var old = OldServer.Connect(path, timeout);
            try
            {
                if (Exchange(old, manager, version, retryOlder: version > VmManager.OldestHandoffVersion) is { } taken)
                {
                    return (old, taken.StateBytes, taken.Adoption);
                }
            }
            catch
            {
                old.Dispose();
                throw;
            }

            old.Dispose();
        }
    }

    // Hello, the state, its adoption; returns the state's size and the adoption, or null when the old server does not
    // speak this version.
    private (int StateBytes, HandoffAdoption Adoption)? Exchange(OldServer old, VmManager manager, int version, bool retryOlder)
    {
        (HandoffFrameType Type, byte[] Payload) answer;
        byte[] ledger = [];
        IReadOnlyList<SafeHandle> descriptors = [];
        CopiedJournals? copied = null;
        try
        {
            if (version < 3)
            {
                // Version 2 freezes on the hello: the heap is made ready before it.
                PauseHeap.Prepare();
            }

            HandoffFrames.Write(old.Stream, HandoffFrameType.Hello, HandoffFrames.Hello(version));
            answer = HandoffFrames.Read(old.Stream);
            if (answer.Type == HandoffFrameType.Journals)
            {
                copied = ReadCopy(old, answer.Payload);
                answer = HandoffFrames.Read(old.Stream);
            }

            if (answer.Type == HandoffFrameType.State)
            {
                var next = HandoffFrames.Read(old.Stream);
                ledger = next.Type == HandoffFrameType.RequestIds ? next.Payload : throw new InvalidDataException($"the state was followed by {next.Type}, not the request_id ledger");
                descriptors = HandoffDescriptors.Receive(old.Socket, options.Value.Handoff.Timeout);
            }
        }
        catch (Exception e) when (e is IOException or SocketException or InvalidDataException)
        {
            throw OldServer.Refused($"the MemSvc on {old.Path} did not hand off: {e.Message}");
        }

        if (answer.Type == HandoffFrameType.Refused)
        {
            var reason = HandoffFrames.Text(answer.Payload);
            return retryOlder && reason.Contains(HandoffFrames.VersionRefusalWords, StringComparison.Ordinal)
                ? null
                : throw OldServer.Refused($"the MemSvc on {old.Path} refused the handoff: {reason}. It serves on");
        }

        if (answer.Type != HandoffFrameType.State)
        {
            throw OldServer.Refused($"the MemSvc on {old.Path} answered {answer.Type}, not its state");
        }

        var adoption = Adopt(old, manager, answer.Payload, descriptors, copied);
        try
        {
            requestIds.Import(ledger);
            HandoffFrames.Write(old.Stream, HandoffFrameType.Adopted, []);
        }
        catch (Exception e) when (e is IOException or SocketException or InvalidDataException or InvalidProtocolBufferException)
        {
            // The old process serves on (or is gone): nothing adopted here may touch the journal files it writes.
            manager.AbandonAdoption();
            TryWrite(old, HandoffFrameType.Failed, e.Message);
            throw OldServer.Refused($"the handed-off state cannot be adopted: {e.Message}. The MemSvc on {old.Path} serves on");
        }

        return (answer.Payload.Length, adoption);
    }

    // The journals copied while the old server's VMs run; the answer lets it freeze them.
    private CopiedJournals ReadCopy(OldServer old, byte[] serialized)
    {
        CopiedJournals copied;
        try
        {
            copied = CopiedJournals.Read(serialized);
        }
        catch (InvalidDataException e)
        {
            TryWrite(old, HandoffFrameType.Failed, e.Message);
            throw OldServer.Refused($"the copied journals cannot be read: {e.Message}. The MemSvc on {old.Path} serves on");
        }

        PauseHeap.Prepare();
        HandoffFrames.Write(old.Stream, HandoffFrameType.Copied, []);
        return copied;
    }

    private static HandoffAdoption Adopt(OldServer old, VmManager manager, byte[] state, IReadOnlyList<SafeHandle> descriptors, CopiedJournals? copied)
    {
        try
        {
            // The adopted VMs keep duplicates of what they need; these close once adopted, or not.
            return manager.AdoptHandoff(state, descriptors, copied);
        }
        catch (HandoffRefusedException e)
        {
            TryWrite(old, HandoffFrameType.Failed, e.Message);
            throw OldServer.Refused($"{e.Message}. The MemSvc on {old.Path} serves on");
        }
        finally
        {
            foreach (var descriptor in descriptors)
            {
                descriptor.Dispose();
            }
        }
    }

    private static void TryWrite(OldServer old, HandoffFrameType type, string text)
    {
        try
        {
            HandoffFrames.WriteText(old.Stream, type, text);
        }
        catch (Exception e) when (e is IOException or SocketException)
        {
            // The old process finds the connection gone instead, and thaws all the same.
        }
    }
}
