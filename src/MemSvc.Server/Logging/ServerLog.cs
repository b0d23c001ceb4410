using Grpc.Core;

namespace MemSvc.Server;

/// <summary>
/// The server's log messages, source-generated so that a disabled level costs nothing. Event ids are stable and
/// live in 1-999; Core's (MemSvc.Core.Logging.CoreLog, category "MemSvc.Core") are 1000-1999.
/// </summary>
internal static partial class ServerLog
{
    [LoggerMessage(EventId = 1, Level = LogLevel.Information, Message = "Listening on unix socket {Path} (mode 0660)")]
    public static partial void ListeningOnSocket(ILogger logger, string path);

    [LoggerMessage(EventId = 2, Level = LogLevel.Warning, Message = "Cannot use {DefaultPath} (not writable by this user); listening on {Path} instead")]
    public static partial void SocketFallback(ILogger logger, string defaultPath, string path);

    [LoggerMessage(EventId = 3, Level = LogLevel.Information, Message = "Listening on {Address} ({Description})")]
    public static partial void ListeningOnPort(ILogger logger, string address, string description);

    [LoggerMessage(EventId = 4, Level = LogLevel.Information, Message = "Backend {Backend} ready: kernel {KernelVersion}; default backend {DefaultBackend}")]
    public static partial void BackendReady(ILogger logger, string backend, string kernelVersion, string defaultBackend);

    [LoggerMessage(EventId = 5, Level = LogLevel.Information, Message = "The kvm backend is not used: {Reason}")]
    public static partial void KvmUnavailable(ILogger logger, string reason);

    [LoggerMessage(EventId = 10, Level = LogLevel.Debug, Message = "{Method} failed with {Code}: {Message}")]
    public static partial void CallFailed(ILogger logger, string method, StatusCode code, string message);

    [LoggerMessage(EventId = 11, Level = LogLevel.Error, Message = "{Method} failed unexpectedly; the client was told INTERNAL")]
    public static partial void UnexpectedFailure(ILogger logger, Exception exception, string method);

    [LoggerMessage(EventId = 6, Level = LogLevel.Information, Message = "Connection limits: {Total} in all, {PerListener} per listener ({PerProbeListener} on the health and Prometheus ports), {PerPeer} per peer, {RefusalSlots} refusal slots; open-file limit {OpenFiles}, {Reserved} descriptors reserved")]
    public static partial void ConnectionLimits(ILogger logger, int total, int perListener, int perProbeListener, int perPeer, int refusalSlots, long openFiles, int reserved);

    [LoggerMessage(EventId = 30, Level = LogLevel.Warning, Message = "Refused a connection on {Listener} from {Peer}: the {Scope} limit of {Limit} connections is reached ({Suppressed} refusals unlogged before this one)")]
    public static partial void ConnectionRefused(ILogger logger, string listener, string peer, string scope, int limit, long suppressed);

    [LoggerMessage(EventId = 32, Level = LogLevel.Warning, Message = "Accepting paused on {Endpoint}: all {Capacity} connection slots are held, so new connections wait in the kernel's listen backlog ({Suppressed} pauses unlogged before this one)")]
    public static partial void AcceptPaused(ILogger logger, string endpoint, int capacity, long suppressed);

    [LoggerMessage(EventId = 12, Level = LogLevel.Debug, Message = "{Method} was ended by its client ({Code}) while it ran; the handler noticed with {ExceptionType}")]
    public static partial void CallEndedByClient(ILogger logger, string method, StatusCode code, string exceptionType);

    [LoggerMessage(EventId = 31, Level = LogLevel.Warning, Message = "Refused a request to {Method} whose body is not valid protobuf ({Problem}); {Suppressed} more were refused unlogged before this one")]
    public static partial void MalformedRequest(ILogger logger, string method, string problem, long suppressed);

    [LoggerMessage(EventId = 20, Level = LogLevel.Information, Message = "Stopping: ending watch streams and vCPUs")]
    public static partial void Stopping(ILogger logger);
}
