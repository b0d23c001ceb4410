namespace MemSvc.Server;

/// <summary>What the operator must know about how the daemon was deployed: its backend, its socket's group, its certificates.</summary>
internal static partial class ServerLog
{
    [LoggerMessage(EventId = 40, Level = LogLevel.Warning, Message = "DefaultBackend is auto and the kvm backend is not available, so VMs run on the simulated backend: {Reason}")]
    public static partial void KvmNotChosen(ILogger logger, string reason);

    [LoggerMessage(EventId = 41, Level = LogLevel.Information, Message = "Unix socket {Path} belongs to group {Group} (MemSvc:SocketGroup); members of it may connect")]
    public static partial void SocketGroupSet(ILogger logger, string path, string group);

    [LoggerMessage(EventId = 42, Level = LogLevel.Information, Message = "TLS certificate files changed: new handshakes use {Subject}, valid until {NotAfter:u}")]
    public static partial void TlsReloaded(ILogger logger, string subject, DateTime notAfter);

    [LoggerMessage(EventId = 43, Level = LogLevel.Warning, Message = "TLS certificate files changed but do not load ({Reason}); still serving the previous certificate")]
    public static partial void TlsReloadFailed(ILogger logger, string reason);

    [LoggerMessage(EventId = 44, Level = LogLevel.Warning, Message = "Refused the client certificate {Subject} on the mTLS port: {Reason} ({Suppressed} refusals unlogged before this one)")]
    public static partial void ClientCertificateRefused(ILogger logger, string subject, string reason, long suppressed);

    [LoggerMessage(EventId = 45, Level = LogLevel.Information, Message = "Server instance {InstanceId} started at {StartTime:o}; VMs of earlier instances are gone")]
    public static partial void InstanceStarted(ILogger logger, string instanceId, DateTime startTime);

    [LoggerMessage(EventId = 46, Level = LogLevel.Warning, Message = "Removed the socket {Path} of a server that is gone without removing it (a crash or a kill): its VMs ended with it")]
    public static partial void StaleSocketRemoved(ILogger logger, string path);
}
