using System.Diagnostics;
using Grpc.Core;
using Grpc.Core.Interceptors;

namespace MemSvc.Client.Diagnostics;

/// <summary>
/// The "MemSvc.Client" <see cref="ActivitySource"/>: one client span per call attempt (a retry is a span of its
/// own, beside the first), named as OpenTelemetry's RPC conventions name them ("memsvc.v1.VmService/CreateVm").
/// The span is the current activity while the call is sent, so the HTTP handler's W3C propagation puts its
/// traceparent on the request and the server's span joins the caller's trace as its child. Innermost of the
/// client's interceptors, so that it sees each attempt the retry pipelines make.
/// </summary>
internal sealed class ClientTracing : Interceptor
{
    private static readonly ActivitySource Source = new(MemSvcClientDiagnostics.ActivitySourceName, typeof(ClientTracing).Assembly.GetName().Version?.ToString());

    public override AsyncUnaryCall<TResponse> AsyncUnaryCall<TRequest, TResponse>(
        TRequest request, ClientInterceptorContext<TRequest, TResponse> context, AsyncUnaryCallContinuation<TRequest, TResponse> continuation)
    {
        ArgumentNullException.ThrowIfNull(continuation);
        var call = Traced(context.Method, () => continuation(request, context), out var activity);
        return activity is null
            ? call
            : new AsyncUnaryCall<TResponse>(Observe(call.ResponseAsync, activity), call.ResponseHeadersAsync, call.GetStatus, call.GetTrailers, call.Dispose);
    }

    public override AsyncServerStreamingCall<TResponse> AsyncServerStreamingCall<TRequest, TResponse>(
        TRequest request, ClientInterceptorContext<TRequest, TResponse> context, AsyncServerStreamingCallContinuation<TRequest, TResponse> continuation)
    {
        ArgumentNullException.ThrowIfNull(continuation);
        var call = Traced(context.Method, () => continuation(request, context), out var activity);
        if (activity is null)
        {
            return call;
        }

        // A stream's span lasts until the stream is disposed (a watch's connection), and ends with its status.
        return new AsyncServerStreamingCall<TResponse>(
            call.ResponseStream,
            call.ResponseHeadersAsync,
            call.GetStatus,
            call.GetTrailers,
            () =>
            {
                Stop(activity, StatusOf(call));
                call.Dispose();
            });
    }

    // Starts the call inside its span, so that its traceparent goes out with it, and leaves the span at once: the
    // caller's code after this returns must not run inside it. No span (null) when nobody listens.
    private static TCall Traced<TCall>(IMethod method, Func<TCall> start, out Activity? activity)
    {
        (activity, var previous) = Start(method);
        if (activity is null)
        {
            return start();
        }

        try
        {
            return start();
        }
        catch (Exception e)
        {
            Stop(activity, CodeOf(e));
            throw;
        }
        finally
        {
            Activity.Current = previous;
        }
    }

    private static (Activity? Activity, Activity? Previous) Start(IMethod method)
    {
        var previous = Activity.Current;
        if (!Source.HasListeners())
        {
            return (null, previous);
        }

        var activity = Source.StartActivity(method.FullName.TrimStart('/'), ActivityKind.Client);
        if (activity is { IsAllDataRequested: true })
        {
            activity.SetTag("rpc.system", "grpc");
            activity.SetTag("rpc.service", method.ServiceName);
            activity.SetTag("rpc.method", method.Name);
        }

        return (activity, previous);
    }

    private static async Task<TResponse> Observe<TResponse>(Task<TResponse> response, Activity activity)
    {
        try
        {
            var result = await response.ConfigureAwait(false);
            Stop(activity, StatusCode.OK);
            return result;
        }
        catch (Exception e)
        {
            Stop(activity, CodeOf(e));
            throw;
        }
    }

    private static StatusCode? StatusOf<TResponse>(AsyncServerStreamingCall<TResponse> call)
    {
        try
        {
            return call.GetStatus().StatusCode;
        }
        catch (InvalidOperationException)
        {
            // Disposed before the server ended it (a watch its caller stopped): there is no status to report.
            return null;
        }
    }

    private static StatusCode CodeOf(Exception e) => e is RpcException rpc ? rpc.StatusCode : StatusCode.Unknown;

    private static void Stop(Activity activity, StatusCode? code)
    {
        if (code is { } status)
        {
            activity.SetTag("rpc.grpc.status_code", (int)status);
            if (status != StatusCode.OK)
            {
                activity.SetStatus(ActivityStatusCode.Error, status.ToString());
            }
        }

        activity.Stop();
    }
}
