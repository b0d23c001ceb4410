using System.Globalization;
using Google.Rpc;
using Grpc.Core;

namespace MemSvc.Client.Resilience;

/// <summary>
/// The server's refusals to admit a call at all: RESOURCE_EXHAUSTED with reason RATE_LIMITED (the per-owner rate
/// of state-changing calls, with retry_after_ms) or QUOTA_EXCEEDED for max_in_flight_requests_per_owner (too many
/// of the owner's calls running). Both are decided before the call's service runs, so the call did nothing and
/// any call, a non-idempotent one included, can be sent again; the other quotas (VMs, memory, ...) stay refused
/// until something is deleted and are not retried. UNAVAILABLE HANDOFF_IN_PROGRESS (the daemon is handing its VMs
/// to a new process) is one too: refused before the call ran, and the next attempt reaches the new process.
/// </summary>
internal static class AdmissionRefusal
{
    public const string RateLimited = "RATE_LIMITED";
    public const string QuotaExceeded = "QUOTA_EXCEEDED";
    public const string InFlightQuota = "max_in_flight_requests_per_owner";
    public const string HandoffInProgress = "HANDOFF_IN_PROGRESS";

    /// <summary>True for an admission refusal; <paramref name="retryAfter"/> is the server's delay when it gave one.</summary>
    public static bool Is(Exception exception, out TimeSpan? retryAfter)
    {
        retryAfter = null;
        if (exception is RpcException { StatusCode: StatusCode.Unavailable } unavailable)
        {
            return unavailable.GetRpcStatus()?.GetDetail<ErrorInfo>()?.Reason == HandoffInProgress;
        }

        if (exception is not RpcException { StatusCode: StatusCode.ResourceExhausted } rpc
            || rpc.GetRpcStatus()?.GetDetail<ErrorInfo>() is not { } info)
        {
            return false;
        }

        if (info.Reason == RateLimited)
        {
            if (info.Metadata.TryGetValue("retry_after_ms", out var text)
                && double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var milliseconds))
            {
                retryAfter = TimeSpan.FromMilliseconds(milliseconds);
            }

            return true;
        }

        return info.Reason == QuotaExceeded && info.Metadata.TryGetValue("quota", out var quota) && quota == InFlightQuota;
    }
}
