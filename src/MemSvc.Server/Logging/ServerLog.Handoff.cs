namespace MemSvc.Server;

/// <summary>The planned handoff (issue 16): which side did what, and why one was refused or called off.</summary>
internal static partial class ServerLog
{
    [LoggerMessage(EventId = 47, Level = LogLevel.Information, Message = "Listening for a planned handoff on {Path} (mode 0600, this server's uid only)")]
    public static partial void HandoffListening(ILogger logger, string path);

    [LoggerMessage(EventId = 48, Level = LogLevel.Warning, Message = "Refused a connection to the handoff socket from uid {Uid}: only this server's uid {Own} may take over")]
    public static partial void HandoffPeerRefused(ILogger logger, string uid, uint own);

    [LoggerMessage(EventId = 49, Level = LogLevel.Warning, Message = "Refused a planned handoff: {Reason}. This server serves on")]
    public static partial void HandoffRefused(ILogger logger, string reason);

    [LoggerMessage(EventId = 50, Level = LogLevel.Information, Message = "Planned handoff: {Vms} VMs frozen and sent ({Bytes} bytes) to the new process, which adopted them; this process exits now")]
    public static partial void HandedOff(ILogger logger, int vms, int bytes);

    [LoggerMessage(EventId = 51, Level = LogLevel.Warning, Message = "Planned handoff called off: {Reason}. The vCPUs run again and this server serves on")]
    public static partial void HandoffCalledOff(ILogger logger, string reason);

    [LoggerMessage(EventId = 52, Level = LogLevel.Information, Message = "Took over from the MemSvc of pid {Pid} ({Path}): {Vms} VMs adopted from {Bytes} bytes of state (handoff version {Version}); {Paused}. This server listens in its place once it has exited")]
    public static partial void TookOver(ILogger logger, int pid, string path, int vms, int bytes, int version, string paused);

    [LoggerMessage(EventId = 53, Level = LogLevel.Warning, Message = "No handoff socket: {Path} belongs to a server that still answers on it")]
    public static partial void HandoffSocketTaken(ILogger logger, string path);

    [LoggerMessage(EventId = 54, Level = LogLevel.Information, Message = "Server instance {InstanceId} started at {StartTime:o} and took over the VMs of the previous instance")]
    public static partial void InstanceTookOver(ILogger logger, string instanceId, DateTime startTime);

    [LoggerMessage(EventId = 55, Level = LogLevel.Debug, Message = "Rehearsed a handoff on a scratch VM {Plays} times in {Milliseconds:F0} ms, so that the real one runs compiled code")]
    public static partial void HandoffRehearsed(ILogger logger, int plays, double milliseconds);

    [LoggerMessage(EventId = 56, Level = LogLevel.Warning, Message = "The handoff rehearsal on a scratch VM failed: {Reason}. A real handoff still runs, its first pause longer")]
    public static partial void HandoffRehearsalFailed(ILogger logger, string reason);
}
