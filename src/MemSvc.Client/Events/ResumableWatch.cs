using System.Runtime.CompilerServices;
using Grpc.Core;
using MemSvc.Client.Diagnostics;
using MemSvc.Client.Errors;
using MemSvc.Contracts.V1;
using Microsoft.Extensions.Logging;

namespace MemSvc.Client.Events;

/// <summary>
/// A WatchEvents stream that outlives its connection: when the stream breaks (UNAVAILABLE, a reset, the server
/// ending it), it opens a new one that starts every VM right after the last event it delivered of it, naming the
/// VM's incarnation (an all-VMs watch sends these as positions), so the caller sees every event exactly once and
/// in order per VM, and never one VM's continuation in another VM of the same name. It asks for progress
/// messages: a bookmark moves a VM's position too, so that a filtered watch's resume point follows the journal
/// past the events it skips instead of falling behind compaction, and a VM that ended is passed on. A compacted
/// start surfaces as <see cref="EventsCompactedException"/>, a replaced VM as <see cref="VmReplacedException"/>;
/// other errors as <see cref="MemSvcException"/>.
/// </summary>
internal sealed class ResumableWatch(EventService.EventServiceClient stub, MemSvcClientOptions options)
{
    private readonly ILogger _logger = options.LoggerFactory.CreateLogger(ClientLog.Category);

    /// <summary>
    /// Events and ended VMs (bookmarks are taken in here). <paramref name="begin"/> gives the positions to start
    /// from; with <paramref name="beginEachConnect"/> it is asked again before every reconnect (list, then watch,
    /// each time), and a start the journal compacted meanwhile, or a VM replaced, is one more reason to begin
    /// again, not an error.
    /// </summary>
    public async IAsyncEnumerable<WatchEventsResponse> RunAsync(
        WatchOptions watch,
        Func<CancellationToken, Task<WatchPositions>> begin,
        bool beginEachConnect,
        [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var vm = watch.Vm is null ? string.Empty : ResourceNames.Vm(watch.Vm);
        var positions = await begin(cancellationToken).ConfigureAwait(false);
        var failures = 0;
        while (true)
        {
            Exception? cause = null;
            using (var call = stub.WatchEvents(BuildRequest(vm, positions, watch), cancellationToken: cancellationToken))
            {
                var stream = call.ResponseStream;
                while (true)
                {
                    bool more;
                    try
                    {
                        more = await stream.MoveNext(cancellationToken).ConfigureAwait(false);
                    }
                    catch (RpcException e) when (cancellationToken.IsCancellationRequested)
                    {
                        throw new OperationCanceledException(e.Message, e, cancellationToken);
                    }
                    catch (RpcException e) when (IsTransient(e) || (beginEachConnect && ErrorTranslator.Translate(e) is EventsCompactedException or VmReplacedException))
                    {
                        cause = e;
                        break;
                    }
                    catch (RpcException e)
                    {
                        throw Translate(e, vm.Length > 0 ? positions.Of(vm) : positions.OtherVms);
                    }

                    if (!more)
                    {
                        break;
                    }

                    failures = 0;
                    var response = stream.Current;
                    switch (response.ItemCase)
                    {
                        case WatchEventsResponse.ItemOneofCase.Bookmark:
                            var bookmark = response.Bookmark;
                            if (positions.MoveTo(bookmark.Vm, bookmark.VmUid, bookmark.NextSequence) is { } gone)
                            {
                                yield return Ended(watch, bookmark.Vm, gone);
                            }

                            watch.OnBookmark?.Invoke(bookmark);
                            break;
                        case WatchEventsResponse.ItemOneofCase.VmEnded:
                            // A one-VM watch keeps the uid, so that its reconnect is refused (VM_NOT_FOUND, VM_REPLACED)
                            // rather than joining a VM of the same name.
                            if (vm.Length > 0 || positions.End(response.VmEnded.Vm, response.VmEnded.VmUid))
                            {
                                watch.OnVmEnded?.Invoke(response.VmEnded);
                                yield return response;
                            }

                            break;
                        case WatchEventsResponse.ItemOneofCase.Event:
                            var item = response.Event;
                            if (positions.Advance(item.Vm, item.VmUid, item.Sequence) is { } replaced)
                            {
                                // A server without progress messages: the end is only seen in the uid changing.
                                yield return Ended(watch, item.Vm, replaced);
                            }

                            yield return response;
                            break;
                    }
                }
            }

            failures++;
            if (options.WatchMaxConsecutiveFailures is { } limit && failures > limit)
            {
                ClientLog.WatchGaveUp(_logger, cause, WatchName(vm), failures);
                throw cause is RpcException rpc
                    ? ErrorTranslator.Translate(rpc)
                    : new MemSvcException(StatusCode.Unavailable, "the event stream kept ending", null, null, new Dictionary<string, string>(), [], cause);
            }

            var delay = Backoff(failures);
            var from = vm.Length > 0 ? positions.Of(vm) : positions.Lowest;
            ClientLog.Reconnecting(_logger, WatchName(vm), Describe(cause), failures, (long)delay.TotalMilliseconds, from);
            watch.OnReconnecting?.Invoke(new WatchReconnect(failures, from, delay, cause));
            if (delay > TimeSpan.Zero)
            {
                await Task.Delay(delay, cancellationToken).ConfigureAwait(false);
            }

            if (beginEachConnect)
            {
                positions = await BeginAgainAsync(begin, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    /// <summary>
    /// Statuses a broken connection or a restarting server produce. INTERNAL and UNKNOWN count only without a
    /// google.rpc.Status: the transport reports a reset stream so, while the server's own errors always carry one.
    /// </summary>
    internal static bool IsTransient(RpcException e) => e.StatusCode switch
    {
        StatusCode.Unavailable or StatusCode.Cancelled or StatusCode.DeadlineExceeded or StatusCode.Aborted => true,
        StatusCode.Internal or StatusCode.Unknown => e.GetRpcStatus() is null,
        _ => false,
    };

    private static string WatchName(string vm) => vm.Length > 0 ? vm : "every VM";

    private static string Describe(Exception? cause) => cause switch
    {
        RpcException e => $"{e.StatusCode} {e.Status.Detail}",
        null => "the server ended it",
        _ => cause.Message,
    };

    private static WatchEventsResponse Ended(WatchOptions watch, string vm, string uid)
    {
        var ended = new VmEnded { Vm = vm, VmUid = uid, Reason = VmEndReason.Replaced };
        watch.OnVmEnded?.Invoke(ended);
        return new WatchEventsResponse { VmEnded = ended };
    }

    private static MemSvcException Translate(RpcException e, ulong start)
    {
        var error = ErrorTranslator.Translate(e);
        return error is EventsCompactedException { NextSequence: null } compacted
            ? new EventsCompactedException(error, compacted.OldestSequence, start)
            : error;
    }

    // A server that is down answers the listing with UNAVAILABLE as it would the stream: wait as for a reconnect.
    private async Task<WatchPositions> BeginAgainAsync(Func<CancellationToken, Task<WatchPositions>> begin, CancellationToken cancellationToken)
    {
        for (var failures = 1; ; failures++)
        {
            try
            {
                return await begin(cancellationToken).ConfigureAwait(false);
            }
            catch (MemSvcException e) when (e.StatusCode is StatusCode.Unavailable or StatusCode.DeadlineExceeded or StatusCode.Cancelled && !cancellationToken.IsCancellationRequested)
            {
                if (options.WatchMaxConsecutiveFailures is { } limit && failures > limit)
                {
                    throw;
                }

                await Task.Delay(Backoff(failures), cancellationToken).ConfigureAwait(false);
            }
        }
    }

    private WatchEventsRequest BuildRequest(string vm, WatchPositions positions, WatchOptions watch)
    {
        var request = new WatchEventsRequest
        {
            Vm = vm,
            StartSequence = vm.Length > 0 ? positions.Of(vm) : positions.OtherVms,
            VmUid = vm.Length > 0 ? positions.UidOf(vm) : string.Empty,
            ProgressMessages = true,
            BookmarkInterval = Google.Protobuf.WellKnownTypes.Duration.FromTimeSpan(options.WatchBookmarkInterval),
        };
        if (vm.Length == 0)
        {
            foreach (var (name, (uid, next)) in positions.Next)
            {
                request.Positions.Add(new VmEventPosition { Vm = name, VmUid = uid, NextSequence = next });
            }
        }

        if (watch.Kinds.Count > 0 || watch.Vcpus.Count > 0)
        {
            request.Filter = new EventFilter();
            request.Filter.Kinds.AddRange(watch.Kinds);
            request.Filter.Vcpus.AddRange(watch.Vcpus);
        }

        return request;
    }

    private TimeSpan Backoff(int failures)
    {
        // Full jitter: reconnecting watchers of a restarted server do not all come back in the same instant.
        var ceiling = options.WatchReconnectBaseDelay.TotalMilliseconds * Math.Pow(2, Math.Min(failures - 1, 16));
        ceiling = Math.Min(ceiling, options.RetryMaxDelay.TotalMilliseconds);
#pragma warning disable CA5394 // Jitter needs no cryptographic randomness.
        return TimeSpan.FromMilliseconds(ceiling * (0.5 + (Random.Shared.NextDouble() / 2)));
#pragma warning restore CA5394
    }
}
