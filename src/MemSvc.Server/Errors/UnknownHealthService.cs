using Grpc.Core;
using Grpc.Health.V1;
using MemSvc.Core.Errors;

namespace MemSvc.Server.Errors;

/// <summary>
/// grpc.health.v1.Health/Check of a service name nobody registered: the health service's own NOT_FOUND has an empty
/// message and no details; this one names the service and carries ErrorInfo UNKNOWN_SERVICE.
/// </summary>
internal static class UnknownHealthService
{
    private const string CheckMethod = "/grpc.health.v1.Health/Check";

    /// <summary>The status to answer instead of <paramref name="e"/>; null when <paramref name="e"/> is not that NOT_FOUND.</summary>
    public static RpcException? Describe(RpcException e, object request, ServerCallContext context) =>
        e.StatusCode == StatusCode.NotFound && context.Method == CheckMethod && request is HealthCheckRequest check
            ? ErrorTable.TryMap(Error(check.Service))
            : null;

    private static CoreException Error(string service) =>
        new(
            ErrorKind.NotFound,
            ServerReasons.UnknownService,
            $"no health status for service '{service}': this server serves memsvc.v1's services and '' (the whole server)",
            null,
            new Dictionary<string, string> { ["service"] = service });
}
