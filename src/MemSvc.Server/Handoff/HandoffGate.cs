using System.Diagnostics;
using Grpc.Core;
using Grpc.Core.Interceptors;
using MemSvc.Core.Errors;
using MemSvc.Server.Errors;

namespace MemSvc.Server.Handoff;

/// <summary>
/// Admits MemSvc API calls, except while a planned handoff moves the state: then a new call is refused UNAVAILABLE
/// HANDOFF_IN_PROGRESS before it runs (a client sends it again and reaches the new process, or this one if the
/// handoff is called off), and the handoff waits for every admitted unary call to finish, so that each call lands in
/// exactly one process: before the state moves, or after. Watches are not waited for (they last as long as their
/// client wants); a new one is refused the same way.
/// </summary>
internal sealed class HandoffGate : Interceptor
{
    private const string ApiPrefix = "/memsvc.v1.";

    private readonly ManualResetEventSlim _drained = new(initialState: false);
    private volatile bool _closed;
    private int _inFlight;

    public override async Task<TResponse> UnaryServerHandler<TRequest, TResponse>(
        TRequest request, ServerCallContext context, UnaryServerMethod<TRequest, TResponse> continuation)
    {
        if (!context.Method.StartsWith(ApiPrefix, StringComparison.Ordinal))
        {
            return await continuation(request, context).ConfigureAwait(false);
        }

        Enter();
        try
        {
            return await continuation(request, context).ConfigureAwait(false);
        }
        finally
        {
            Leave();
        }
    }

    public override Task ServerStreamingServerHandler<TRequest, TResponse>(
        TRequest request, IServerStreamWriter<TResponse> responseStream, ServerCallContext context, ServerStreamingServerMethod<TRequest, TResponse> continuation)
    {
        if (_closed && context.Method.StartsWith(ApiPrefix, StringComparison.Ordinal))
        {
            throw Refusal();
        }

        return continuation(request, responseStream, context);
    }

    /// <summary>Refuses new calls and waits for admitted ones; false when they did not finish within <paramref name="timeout"/> (the gate stays closed).</summary>
    public bool Close(TimeSpan timeout)
    {
        _closed = true;
        var started = Stopwatch.GetTimestamp();

        // A set that a refused call's own leaving made is stale once the count is not 0 again: wait again then.
        while (Volatile.Read(ref _inFlight) != 0)
        {
            var left = timeout - Stopwatch.GetElapsedTime(started);
            if (left <= TimeSpan.Zero || !_drained.Wait(left))
            {
                return false;
            }

            _drained.Reset();
        }

        return true;
    }

    /// <summary>Admits calls again (the handoff was called off).</summary>
    public void Open() => _closed = false;

    private static CoreException Refusal() => new(
        ErrorKind.Unavailable,
        ServerReasons.HandoffInProgress,
        "MemSvc is handing its VMs to a new process; the call was not run: send it again");

    private void Enter()
    {
        Interlocked.Increment(ref _inFlight);
        if (_closed)
        {
            Leave();
            throw Refusal();
        }
    }

    private void Leave()
    {
        if (Interlocked.Decrement(ref _inFlight) == 0 && _closed)
        {
            _drained.Set();
        }
    }
}
