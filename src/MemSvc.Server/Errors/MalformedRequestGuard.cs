using Grpc.Core;
using Grpc.Core.Interceptors;

namespace MemSvc.Server.Errors;

/// <summary>
/// Refuses a request whose body did not parse (<see cref="MalformedRequests"/>) INVALID_ARGUMENT MALFORMED_REQUEST,
/// after the in-flight and rate limits, so that a loop of garbled calls is limited like a loop of valid ones. Such a
/// refusal is the client's doing and a hostile client can make it at will: one Warning line per 10 s says how many.
/// </summary>
internal sealed class MalformedRequestGuard(ILogger<MalformedRequestGuard> logger) : Interceptor
{
    private readonly LogThrottle _throttle = new(TimeSpan.FromSeconds(10));

    public override Task<TResponse> UnaryServerHandler<TRequest, TResponse>(
        TRequest request, ServerCallContext context, UnaryServerMethod<TRequest, TResponse> continuation)
    {
        Check(request, context);
        return continuation(request, context);
    }

    public override Task ServerStreamingServerHandler<TRequest, TResponse>(
        TRequest request, IServerStreamWriter<TResponse> responseStream, ServerCallContext context, ServerStreamingServerMethod<TRequest, TResponse> continuation)
    {
        Check(request, context);
        return continuation(request, responseStream, context);
    }

    private void Check(object request, ServerCallContext context)
    {
        if (MalformedRequests.ProblemOf(request) is not { } problem)
        {
            return;
        }

        if (_throttle.TryAcquire(out var suppressed))
        {
            ServerLog.MalformedRequest(logger, context.Method, problem, suppressed);
        }

        throw MalformedRequests.Error(request, problem);
    }
}
