using Grpc.Core;
using MemSvc.Client.Errors;
using MemSvc.Client.Resilience;
using Microsoft.Extensions.Logging;
using Polly;
using Polly.Retry;

namespace MemSvc.Client.Diagnostics;

/// <summary>The retry strategies' OnRetry: a warning per retry, so that a slow call's cause shows in the caller's log.</summary>
internal static class RetryLogging
{
    public static Func<OnRetryArguments<object>, ValueTask> For(ILogger logger, CallKind kind) => args =>
    {
        if (args.Outcome.Exception is RpcException e && logger.IsEnabled(LogLevel.Warning))
        {
            var reason = ErrorTranslator.Translate(e).Reason ?? "no ErrorInfo";
            ClientLog.Retrying(logger, kind.ToString(), e.StatusCode, reason, args.AttemptNumber + 1, (long)args.RetryDelay.TotalMilliseconds);
        }

        return ValueTask.CompletedTask;
    };
}
