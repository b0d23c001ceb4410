using Grpc.Core;
using Grpc.Core.Interceptors;
using Microsoft.Extensions.Hosting;

namespace MemSvc.Server.Tests.Security;

/// <summary>The innermost interceptor: a call with the gate's header waits there, its slots in every limit taken.</summary>
internal sealed class HoldInterceptor(CallGate gate, IHostApplicationLifetime lifetime) : Interceptor
{
    public override async Task<TResponse> UnaryServerHandler<TRequest, TResponse>(
        TRequest request, ServerCallContext context, UnaryServerMethod<TRequest, TResponse> continuation)
    {
        if (context.RequestHeaders.GetValue(CallGate.Header) is { } tag)
        {
            await gate[tag].WaitAsync(context, lifetime.ApplicationStopping);
        }

        return await continuation(request, context);
    }
}

/// <summary>The outermost interceptor: reports a held call finished once every interceptor inside it has returned.</summary>
internal sealed class FinishInterceptor(CallGate gate) : Interceptor
{
    public override async Task<TResponse> UnaryServerHandler<TRequest, TResponse>(
        TRequest request, ServerCallContext context, UnaryServerMethod<TRequest, TResponse> continuation)
    {
        try
        {
            return await continuation(request, context);
        }
        finally
        {
            if (context.RequestHeaders.GetValue(CallGate.Header) is { } tag)
            {
                gate[tag].Finish();
            }
        }
    }
}
