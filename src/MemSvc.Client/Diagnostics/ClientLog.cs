using Grpc.Core;
using Microsoft.Extensions.Logging;

namespace MemSvc.Client.Diagnostics;

/// <summary>The client's own log messages (event ids 3100-3199; the orchestrator's are 3000-3099).</summary>
internal static partial class ClientLog
{
    /// <summary>The category of the retry and reconnect messages.</summary>
    public const string Category = "MemSvc.Client";

    [LoggerMessage(EventId = 3101, Level = LogLevel.Warning, Message = "retrying a {Kind} call after {StatusCode} ({Reason}): retry {Attempt} in {DelayMs} ms")]
    public static partial void Retrying(ILogger logger, string kind, StatusCode statusCode, string reason, int attempt, long delayMs);

    [LoggerMessage(EventId = 3102, Level = LogLevel.Warning, Message = "event stream of {Watch} lost ({Cause}): reconnect {Failures} in {DelayMs} ms, from sequence {From}")]
    public static partial void Reconnecting(ILogger logger, string watch, string cause, int failures, long delayMs, ulong from);

    [LoggerMessage(EventId = 3103, Level = LogLevel.Error, Message = "event stream of {Watch} gave up: {Failures} failures in a row")]
    public static partial void WatchGaveUp(ILogger logger, Exception? exception, string watch, int failures);
}
