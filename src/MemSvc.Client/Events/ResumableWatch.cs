using System.Runtime.CompilerServices;
using Grpc.Core;
using MemSvc.Client.Errors;
using MemSvc.Contracts.V1;

namespace MemSvc.Client.Events;

/// <summary>
/// A WatchEvents stream that outlives its connection: when the stream breaks (UNAVAILABLE, a reset, the server
/// ending it), it opens a new one that starts every VM right after the last event it delivered of it (an
/// all-VMs watch sends these as start_sequences), so the caller sees every event exactly once and in order per
/// VM. It asks for progress messages and moves a VM's position on each bookmark too, so that a filtered watch's
/// resume point follows the journal past the events it skips instead of falling behind compaction. A compacted start surfaces as <see cref="EventsCompactedException"/>; other errors as
/// <see cref="MemSvcException"/>.
/// </summary>
/// <param name="lastSequences">
/// The newest sequence of one VM (given its name) or of every VM the caller may see (given null), for pinning
/// a watch that starts "from now".
/// </param>
internal sealed class ResumableWatch(
    EventService.EventServiceClient stub,
    MemSvcClientOptions options,
    Func<string?, CancellationToken, Task<IReadOnlyDictionary<string, ulong>>> lastSequences)
{
    public async IAsyncEnumerable<Event> RunAsync(WatchOptions watch, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var vm = watch.Vm is null ? string.Empty : ResourceNames.Vm(watch.Vm);
        var positions = watch.Positions is { } listed
            ? WatchPositions.From(listed)
            : await WatchPositions.BeginAsync(
                vm.Length == 0, watch.StartSequence, ct => lastSequences(vm.Length == 0 ? null : vm, ct), cancellationToken).ConfigureAwait(false);
        var failures = 0;
        while (true)
        {
            var request = BuildRequest(vm, positions, watch);
            Exception? cause = null;
            using (var call = stub.WatchEvents(request, cancellationToken: cancellationToken))
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
                    catch (RpcException e) when (IsTransient(e))
                    {
                        cause = e;
                        break;
                    }
                    catch (RpcException e)
                    {
                        throw Translate(e, request.StartSequence);
                    }

                    if (!more)
                    {
                        break;
                    }

                    failures = 0;
                    var response = stream.Current;
                    if (response.ItemCase == WatchEventsResponse.ItemOneofCase.Bookmark)
                    {
                        positions.MoveTo(response.Bookmark.Vm, response.Bookmark.NextSequence);
                        watch.OnBookmark?.Invoke(response.Bookmark);
                        continue;
                    }

                    var item = response.Event;
                    positions.Advance(item.Vm, item.Sequence);
                    yield return item;
                }
            }

            failures++;
            if (options.WatchMaxConsecutiveFailures is { } limit && failures > limit)
            {
                throw cause is RpcException rpc
                    ? ErrorTranslator.Translate(rpc)
                    : new MemSvcException(StatusCode.Unavailable, "the event stream kept ending", null, null, new Dictionary<string, string>(), [], cause);
            }

            var delay = Backoff(failures);
            watch.OnReconnecting?.Invoke(new WatchReconnect(failures, vm.Length > 0 ? positions.Of(vm) : positions.Lowest, delay, cause));
            if (delay > TimeSpan.Zero)
            {
                await Task.Delay(delay, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    private WatchEventsRequest BuildRequest(string vm, WatchPositions positions, WatchOptions watch)
    {
        var request = new WatchEventsRequest
        {
            Vm = vm,
            StartSequence = vm.Length > 0 ? positions.Of(vm) : positions.OtherVms,
            ProgressMessages = true,
            BookmarkInterval = Google.Protobuf.WellKnownTypes.Duration.FromTimeSpan(options.WatchBookmarkInterval),
        };
        if (vm.Length == 0)
        {
            foreach (var (name, next) in positions.Next)
            {
                request.StartSequences[name] = next;
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
    /// <summary>
    /// Statuses a broken connection or a restarting server produce. INTERNAL and UNKNOWN count only without a
    /// google.rpc.Status: the transport reports a reset stream so, while the server's own errors always carry one.
    /// </summary>
    private static bool IsTransient(RpcException e) => e.StatusCode switch
    {
        StatusCode.Unavailable or StatusCode.Cancelled or StatusCode.DeadlineExceeded or StatusCode.Aborted => true,
        StatusCode.Internal or StatusCode.Unknown => e.GetRpcStatus() is null,
        _ => false,
    };

    private static MemSvcException Translate(RpcException e, ulong start)
    {
        var error = ErrorTranslator.Translate(e);
        return error is EventsCompactedException { NextSequence: null } compacted
            ? new EventsCompactedException(error, compacted.OldestSequence, start)
            : error;
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
