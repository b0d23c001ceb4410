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
internal sealed class ResumableWatch(EventService.EventServiceClient stub, MemSvcClientOptions options)
{
    public async IAsyncEnumerable<Event> RunAsync(WatchOptions watch, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var vm = watch.Vm is null ? string.Empty : ResourceNames.Vm(watch.Vm);
        var delivered = new Dictionary<string, ulong>(StringComparer.Ordinal);
        var failures = 0;
        while (true)
        {
            var request = BuildRequest(vm, watch, delivered);
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
                    catch (RpcException e) when (IsTransient(e.StatusCode))
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
            var resumeFrom = BuildRequest(vm, watch, delivered).StartSequence;
            watch.OnReconnecting?.Invoke(new WatchReconnect(failures, resumeFrom, delay, cause));
            if (delay > TimeSpan.Zero)
            {
                await Task.Delay(delay, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    /// <summary>
    /// The request that resumes after what was delivered. A single-VM watch resumes exactly. An all-VMs watch has one
    /// start for every VM (the contract has no per-VM cursor), so it resumes from the earliest seen VM's next event
    /// and drops what the others already delivered; a VM it had not seen any event of yet is resumed from there too.
    /// </summary>
    private static WatchEventsRequest BuildRequest(string vm, WatchOptions watch, Dictionary<string, ulong> delivered)
    {
        // Events are delivered in order per VM, so one past the earliest VM's last event loses nothing a seen VM had.
        var start = delivered.Count == 0 ? watch.StartSequence : delivered.Values.Min() + 1;
        var request = new WatchEventsRequest { Vm = vm, StartSequence = start };
        if (watch.Kinds.Count > 0 || watch.Vcpus.Count > 0)
        {
            request.Filter = new EventFilter();
            request.Filter.Kinds.AddRange(watch.Kinds);
            request.Filter.Vcpus.AddRange(watch.Vcpus);
        }

        return request;
    }

    /// <summary>Statuses a broken connection or a restarting server produce; anything else is the server's answer.</summary>
    private static bool IsTransient(StatusCode code) =>
        code is StatusCode.Unavailable or StatusCode.Internal or StatusCode.Unknown or StatusCode.Cancelled
            or StatusCode.DeadlineExceeded or StatusCode.Aborted;

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
