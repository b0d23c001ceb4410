using System.Collections.Concurrent;
using Grpc.Core;
using Grpc.Core.Interceptors;

namespace MemSvc.Client.Tests.Infrastructure;

/// <summary>
/// A client-side interceptor that breaks calls on purpose: unary calls fail before reaching the server, or after
/// it answered (the answer is lost), and event streams are cut after a number of messages, with their HTTP/2
/// stream reset, as a dropped connection or a restarting server would do.
/// </summary>
public sealed class FaultInjector : Interceptor
{
    private readonly ConcurrentDictionary<string, int> _attempts = new();
    private readonly ConcurrentDictionary<string, ConcurrentQueue<StatusCode>> _failBefore = new();
    private readonly ConcurrentDictionary<string, int> _failAfter = new();
    private readonly ConcurrentBag<DateTime?> _deadlines = [];
    private readonly ConcurrentDictionary<int, Action> _openStreams = new();
    private int _streamDrops;
    private int _streamOpens;
    private int _streamMessages;

    /// <summary>Cuts a stream after this many messages (chosen per stream); null: streams are left alone.</summary>
    public Func<int, int>? MessagesBeforeDrop { get; set; }

    /// <summary>Whether a newly opened stream fails at once with UNAVAILABLE (given the count of opens so far).</summary>
    public Func<int, bool>? FailStreamOpen { get; set; }

    /// <summary>How a cut stream ends: with this status, or cleanly (as a server ending the call) when null.</summary>
    public StatusCode? DropStatus { get; set; } = StatusCode.Unavailable;

    /// <summary>Drops stop after this many; the stream then runs undisturbed.</summary>
    public int MaxStreamDrops { get; set; } = int.MaxValue;

    /// <summary>Keeps the streams that pass through, so that <see cref="DropStreams"/> can reset them at a moment the test chooses.</summary>
    public bool TrackStreams { get; set; }

    public int StreamDrops => _streamDrops;

    public int StreamOpens => _streamOpens;

    /// <summary>Messages passed on by streams that are being cut: more than the caller got means replays.</summary>
    public int StreamMessages => _streamMessages;

    /// <summary>The deadline of every unary call attempt seen.</summary>
    public IReadOnlyCollection<DateTime?> Deadlines => _deadlines;

    /// <summary>Fails the next calls of <paramref name="method"/> (its short name, "GetVm") with these statuses.</summary>
    public void FailBefore(string method, params StatusCode[] codes) =>
        _failBefore[method] = new ConcurrentQueue<StatusCode>(codes);

    /// <summary>Lets the next <paramref name="times"/> calls of <paramref name="method"/> run, then loses their answers (UNAVAILABLE).</summary>
    public void FailAfter(string method, int times) => _failAfter[method] = times;

    public int Attempts(string method) => _attempts.GetValueOrDefault(method);

    /// <summary>Resets every tracked stream now, as a lost connection would: a read in progress fails CANCELLED.</summary>
    public void DropStreams()
    {
        foreach (var open in _openStreams.Keys)
        {
            if (_openStreams.TryRemove(open, out var dispose))
            {
                dispose();
                Interlocked.Increment(ref _streamDrops);
            }
        }
    }

    public override AsyncUnaryCall<TResponse> AsyncUnaryCall<TRequest, TResponse>(
        TRequest request, ClientInterceptorContext<TRequest, TResponse> context, AsyncUnaryCallContinuation<TRequest, TResponse> continuation)
    {
        var method = context.Method.Name;
        _attempts.AddOrUpdate(method, 1, (_, n) => n + 1);
        _deadlines.Add(context.Options.Deadline);
        if (_failBefore.TryGetValue(method, out var queue) && queue.TryDequeue(out var code))
        {
            var failed = Task.FromException<TResponse>(new RpcException(new Status(code, "injected before the server")));
            return new AsyncUnaryCall<TResponse>(failed, Task.FromResult(new Metadata()), () => new Status(code, "injected"), () => [], () => { });
        }

        var call = continuation(request, context);
        if (_failAfter.TryGetValue(method, out var left) && left > 0 && _failAfter.TryUpdate(method, left - 1, left))
        {
            return new AsyncUnaryCall<TResponse>(LoseAnswerAsync(call.ResponseAsync), call.ResponseHeadersAsync, call.GetStatus, call.GetTrailers, call.Dispose);
        }

        return call;
    }

    public override AsyncServerStreamingCall<TResponse> AsyncServerStreamingCall<TRequest, TResponse>(
        TRequest request, ClientInterceptorContext<TRequest, TResponse> context, AsyncServerStreamingCallContinuation<TRequest, TResponse> continuation)
    {
        var opens = Interlocked.Increment(ref _streamOpens);
        if (FailStreamOpen?.Invoke(opens) == true)
        {
            var reader = new FailingReader<TResponse>();
            return new AsyncServerStreamingCall<TResponse>(reader, Task.FromResult(new Metadata()), () => new Status(StatusCode.Unavailable, "injected"), () => [], () => { });
        }

        var call = continuation(request, context);
        if (TrackStreams)
        {
            _openStreams[opens] = call.Dispose;
            return new AsyncServerStreamingCall<TResponse>(
                call.ResponseStream, call.ResponseHeadersAsync, call.GetStatus, call.GetTrailers, () => { _openStreams.TryRemove(opens, out _); call.Dispose(); });
        }

        if (MessagesBeforeDrop is null || Volatile.Read(ref _streamDrops) >= MaxStreamDrops)
        {
            return call;
        }

        var cut = new CuttingReader<TResponse>(
            call, MessagesBeforeDrop(opens), DropStatus, () => Interlocked.Increment(ref _streamDrops), () => Interlocked.Increment(ref _streamMessages));
        return new AsyncServerStreamingCall<TResponse>(cut, call.ResponseHeadersAsync, call.GetStatus, call.GetTrailers, call.Dispose);
    }

    private static async Task<TResponse> LoseAnswerAsync<TResponse>(Task<TResponse> response)
    {
        await response;
        throw new RpcException(new Status(StatusCode.Unavailable, "injected: the answer was lost"));
    }

    private sealed class FailingReader<T> : IAsyncStreamReader<T>
    {
        public T Current => throw new InvalidOperationException("no message");

        public Task<bool> MoveNext(CancellationToken cancellationToken) =>
            Task.FromException<bool>(new RpcException(new Status(StatusCode.Unavailable, "injected: connection refused")));
    }

    /// <summary>Passes <c>limit</c> messages on, then resets the real stream and fails with <c>status</c> (or ends).</summary>
    private sealed class CuttingReader<T>(AsyncServerStreamingCall<T> call, int limit, StatusCode? status, Action dropped, Action passed) : IAsyncStreamReader<T>
    {
        private int _passed;

        public T Current => call.ResponseStream.Current;

        public async Task<bool> MoveNext(CancellationToken cancellationToken)
        {
            if (_passed >= limit)
            {
                call.Dispose();
                dropped();
                return status is { } code ? throw new RpcException(new Status(code, "injected: stream dropped")) : false;
            }

            var more = await call.ResponseStream.MoveNext(cancellationToken);
            if (more)
            {
                _passed++;
                passed();
            }

            return more;
        }
    }
}
