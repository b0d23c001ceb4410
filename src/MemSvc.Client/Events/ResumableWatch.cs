using System.Runtime.CompilerServices;
using Grpc.Core;
using MemSvc.Client.Errors;
using MemSvc.Contracts.V1;

namespace MemSvc.Client.Events;

/// <summary>
/// A WatchEvents stream that outlives its connection: when the stream breaks (UNAVAILABLE, a reset, the server
/// ending it), it opens a new one from the sequence after the last event it delivered, and drops any event it
/// already delivered, so the caller sees every event exactly once and in order per VM. A compacted start
/// surfaces as <see cref="EventsCompactedException"/>; other errors as <see cref="MemSvcException"/>.
/// </summary>
/// <param name="listVms">The names of the VMs the caller may see, for resuming all-VMs watches.</param>
internal sealed class ResumableWatch(
    EventService.EventServiceClient stub, MemSvcClientOptions options, Func<CancellationToken, IAsyncEnumerable<string>> listVms)
{
    public async IAsyncEnumerable<Event> RunAsync(WatchOptions watch, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var vm = watch.Vm is null ? string.Empty : ResourceNames.Vm(watch.Vm);
        var delivered = new Dictionary<string, ulong>(StringComparer.Ordinal);
        var failures = 0;
        var start = watch.StartSequence;
        while (true)
        {
            var request = BuildRequest(vm, start, watch);
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

                    var item = stream.Current.Event;
                    if (delivered.TryGetValue(item.Vm, out var last) && item.Sequence <= last)
                    {
                        // Replayed by a resume that had to start before this VM's position (all-VMs watches).
                        continue;
                    }

                    delivered[item.Vm] = item.Sequence;
                    failures = 0;
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
            start = await ResumeFromAsync(vm, watch, delivered, cancellationToken).ConfigureAwait(false);
            watch.OnReconnecting?.Invoke(new WatchReconnect(failures, start, delay, cause));
            if (delay > TimeSpan.Zero)
            {
                await Task.Delay(delay, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    /// <summary>
    /// Where a new stream starts so that nothing is lost. A single-VM watch resumes right after its last event. An
    /// all-VMs watch has one start for every VM (the contract has no per-VM cursor): when every VM it may see has
    /// delivered an event, it resumes after the earliest VM's last one and drops what the others already delivered;
    /// while some VM has not, it starts over from its original start (dropping all it delivered), since that VM's
    /// events may lie anywhere after it. A watch that started at 0 ("from now") has no such start to go back to.
    /// </summary>
    private async Task<ulong> ResumeFromAsync(string vm, WatchOptions watch, Dictionary<string, ulong> delivered, CancellationToken cancellationToken)
    {
        if (delivered.Count == 0)
        {
            return watch.StartSequence;
        }

        var earliest = delivered.Values.Min() + 1;
        if (vm.Length > 0)
        {
            return earliest;
        }

        List<string> names;
        try
        {
            names = await listVms(cancellationToken).ToListAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (MemSvcException)
        {
            // Not knowing which VMs exist, only the original start is sure to lose nothing.
            return watch.StartSequence > 0 ? watch.StartSequence : earliest;
        }

        if (watch.StartSequence > 0 && names.Any(n => !delivered.ContainsKey(n)))
        {
            return watch.StartSequence;
        }

        // Deleted VMs no longer hold the start back.
        return names.Where(delivered.ContainsKey).Select(n => delivered[n] + 1).DefaultIfEmpty(earliest).Min();
    }

    private static WatchEventsRequest BuildRequest(string vm, ulong start, WatchOptions watch)
    {
        var request = new WatchEventsRequest { Vm = vm, StartSequence = start };
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
