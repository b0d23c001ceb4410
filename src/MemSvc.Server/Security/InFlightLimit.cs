using Grpc.Core;
using Grpc.Core.Interceptors;
using MemSvc.Contracts.V1;
using MemSvc.Core.Errors;
using MemSvc.Server.Identity;
using MemSvc.Server.Telemetry;

namespace MemSvc.Server.Security;

/// <summary>
/// MemSvc:Quotas:MaxInFlightRequestsPerOwner: how many unary calls of the MemSvc API one owner may have executing at
/// once. Slow calls (conversions, 4 MiB writes) wait in their owner's queue of the FairWorkers, holding no thread;
/// this limit bounds how long that queue may grow, and so how much one owner's burst can ask of the workers. A call
/// past the limit fails RESOURCE_EXHAUSTED QUOTA_EXCEEDED naming the quota, before its service runs.
/// <para>
/// What counts: the RPCs whose <c>(memsvc.v1.policy)</c> says in_flight_limited, and an RPC of memsvc.v1 without a
/// declaration (a test forbids one), so that a new RPC is limited unless exempted on purpose. ResolveFault is
/// exempt, as from the rate limit: an orchestrator whose bulk calls fill its slots must still resolve its vCPUs'
/// faults, or those vCPUs stall until the resolution timeout. WatchEvents (the one stream) lives as long as its
/// client wants and has its own quota, MaxWatchersPerOwner. Health checks and reflection are not MemSvc's API and
/// never count. Admins are counted under their own owner, as the rate limit does.
/// </para>
/// </summary>
internal sealed class InFlightLimit(ICallerResolver callers, InFlightCounter counter) : Interceptor
{
    public const string Quota = "max_in_flight_requests_per_owner";

    private const string ApiPrefix = "/memsvc.v1.";

    public override async Task<TResponse> UnaryServerHandler<TRequest, TResponse>(
        TRequest request, ServerCallContext context, UnaryServerMethod<TRequest, TResponse> continuation)
    {
        if (!IsCounted(context.Method))
        {
            return await continuation(request, context).ConfigureAwait(false);
        }

        var owner = callers.Resolve(context).Identity;
        if (!counter.TryEnter(owner))
        {
            ServerMetrics.CallRefused(owner, context.Method, ServerMetrics.InFlight);
            throw CoreException.QuotaExceeded(Quota, (ulong)counter.Limit, (ulong)counter.Limit + 1);
        }

        // The slot is held until the handler really returns, whatever way it ends: a client that cancels or whose
        // deadline passes does not stop an operation that has started on a worker, which runs to its end.
        try
        {
            return await continuation(request, context).ConfigureAwait(false);
        }
        finally
        {
            counter.Exit(owner);
        }
    }

    // "/memsvc.v1.VmService/CreateVm": counted; "/grpc.health.v1.Health/Check", ResolveFault: not.
    private static bool IsCounted(string method) =>
        MethodPolicies.Find(method) is { } policy ? policy.InFlightLimited : method.StartsWith(ApiPrefix, StringComparison.Ordinal);
}
