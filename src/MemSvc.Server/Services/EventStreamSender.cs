using Grpc.Core;
using MemSvc.Contracts.V1;
using MemSvc.Core.Events;
using MemSvc.Server.Mapping;

namespace MemSvc.Server.Services;

/// <summary>
/// Sends a watch's events on its response stream. An event is flushed at once when it is the last one at hand, so
/// that a fault reaches its watcher without waiting; events that are already waiting behind it (a backlog, a
/// replay, the burst of a state change and a fault) are written unflushed and leave in one flush, one HTTP/2 DATA
/// frame, instead of one each.
/// </summary>
internal static class EventStreamSender
{
    // An upper bound on what a stream holds unflushed: a few KiB of small events, well under one HTTP/2 frame.
    private const int MaxUnflushed = 64;

    private static readonly WriteOptions Buffered = new(WriteFlags.BufferHint);

    public static async Task SendAsync(
        IAsyncEnumerable<WatchItem> events,
        IServerStreamWriter<WatchEventsResponse> stream,
        SharedEventMessages messages,
        CancellationTokenSource stop)
    {
        var enumerator = events.GetAsyncEnumerator(stop.Token);
        var next = enumerator.MoveNextAsync();
        var unflushed = 0;
        try
        {
            while (await next.ConfigureAwait(false))
            {
                var item = enumerator.Current;

                // Ask for the next event before writing this one: if it is already here, this one need not be
                // flushed alone. If it is not, the read waits for the journal while this one is written.
                next = enumerator.MoveNextAsync();
                var more = false;
                if (next.IsCompletedSuccessfully && unflushed < MaxUnflushed)
                {
                    more = next.Result;
                    next = new ValueTask<bool>(more);
                }

                // The stop is checked between writes, never handed to a write: grpc-dotnet aborts the whole request
                // (RST_STREAM INTERNAL_ERROR, the client sees INTERNAL) when a write's token is cancelled, where a
                // watch ended by its deadline or by the server stopping must end with a status.
                stop.Token.ThrowIfCancellationRequested();
                stream.WriteOptions = more ? Buffered : null;
                var message = item.Event is { } evt ? messages.For(evt) : WatchMapping.ToProto(item.Notice!);
                await stream.WriteAsync(message).ConfigureAwait(false);
                unflushed = more ? unflushed + 1 : 0;
            }
        }
        finally
        {
            // A write that failed may leave a read waiting on the journal: end it before the enumerator goes.
            if (!next.IsCompleted)
            {
                await stop.CancelAsync().ConfigureAwait(false);
                try
                {
                    await next.ConfigureAwait(false);
                }
                catch (Exception e) when (e is OperationCanceledException or Core.Errors.CoreException)
                {
                    // The failed write is what the call reports; the read only ended with it.
                }
            }

            await enumerator.DisposeAsync().ConfigureAwait(false);
        }
    }
}
