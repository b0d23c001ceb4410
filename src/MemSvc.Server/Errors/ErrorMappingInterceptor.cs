using Grpc.Core;
using Grpc.Core.Interceptors;

namespace MemSvc.Server.Errors;

/// <summary>
/// Turns every exception a service lets out into the status <see cref="ErrorTable"/> gives it, so services
/// throw Core's and the backend's errors as they are and never build a status themselves. A call that its client
/// ended (cancelled, deadline passed, connection gone) ends CANCELLED or DEADLINE_EXCEEDED whatever the handler
/// was doing when it noticed, logged at Debug only.
/// </summary>
internal sealed class ErrorMappingInterceptor(ILogger<ErrorMappingInterceptor> logger) : Interceptor
{
    public override async Task<TResponse> UnaryServerHandler<TRequest, TResponse>(
        TRequest request, ServerCallContext context, UnaryServerMethod<TRequest, TResponse> continuation)
    {
        try
        {
            return await continuation(request, context).ConfigureAwait(false);
        }
        catch (RpcException e) when (UnknownHealthService.Describe(e, request, context) is { } described)
        {
            throw described;
        }
        catch (Exception e) when (e is not RpcException)
        {
            throw Map(e, context);
        }
    }

    public override async Task ServerStreamingServerHandler<TRequest, TResponse>(
        TRequest request, IServerStreamWriter<TResponse> responseStream, ServerCallContext context, ServerStreamingServerMethod<TRequest, TResponse> continuation)
    {
        try
        {
            await continuation(request, responseStream, context).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not RpcException)
        {
            throw Map(e, context);
        }
    }

    private RpcException Map(Exception e, ServerCallContext context)
    {
        if (EndedByClient(e, context) is { } ending)
        {
            // The client went away or its deadline passed while the call ran (a watch writing its backlog, most
            // often): not a failure of ours, and the client already has its answer, so nothing above Debug.
            ServerLog.CallEndedByClient(logger, context.Method, ending, e.GetType().Name);
            return new RpcException(new Status(ending, ending == StatusCode.DeadlineExceeded ? "the deadline passed" : "the call was cancelled"));
        }

        var mapped = ErrorTable.TryMap(e);
        if (mapped is not null)
        {
            ServerLog.CallFailed(logger, context.Method, mapped.StatusCode, e.Message);
            return mapped;
        }

        ServerLog.UnexpectedFailure(logger, e, context.Method);
        return ErrorTable.Internal();
    }

    /// <summary>
    /// DEADLINE_EXCEEDED or CANCELLED when <paramref name="e"/> is what a call ended from outside throws; null for
    /// a real failure. grpc-dotnet completes a call whose deadline passes before it cancels the call's token, so a
    /// write in between fails with InvalidOperationException ("the request is complete") while the token still
    /// says nothing: the deadline itself is checked too.
    /// </summary>
    private static StatusCode? EndedByClient(Exception e, ServerCallContext context)
    {
        if (e is not (OperationCanceledException or InvalidOperationException or IOException))
        {
            return null;
        }

        if (context.Deadline <= DateTime.UtcNow)
        {
            return StatusCode.DeadlineExceeded;
        }

        return context.CancellationToken.IsCancellationRequested ? StatusCode.Cancelled : null;
    }
}
