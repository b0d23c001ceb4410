using Grpc.Core;
using Grpc.Core.Interceptors;

namespace MemSvc.Server.Errors;

/// <summary>
/// Turns every exception a service lets out into the status <see cref="ErrorTable"/> gives it, so services
/// throw Core's and the backend's errors as they are and never build a status themselves.
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
        if (e is OperationCanceledException && context.CancellationToken.IsCancellationRequested)
        {
            // The client went away or its deadline passed: nobody reads this status, and it is not a failure of ours.
            return new RpcException(new Status(StatusCode.Cancelled, "the call was cancelled"));
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
}
