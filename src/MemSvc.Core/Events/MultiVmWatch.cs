using System.Runtime.CompilerServices;
using System.Threading.Channels;
using MemSvc.Core.Errors;
using MemSvc.Core.Identity;
using MemSvc.Core.Vms;

namespace MemSvc.Core.Events;

/// <summary>
/// A watch over every VM the caller may see, VMs created while watching included. One pump per VM reads that
/// VM's journal in order into a small bounded channel, so per-VM order holds and memory stays bounded: a full
/// channel slows the pumps, never an appender, and a pump the journal laps ends the watch with
/// WATCHER_FELL_BEHIND like a single-VM watch. The work of one VM name (in its owner's namespace) is chained: a VM
/// created under the name of one still draining (deleted, or found ended at the start) is pumped only after it, so
/// the stream shows the old incarnation end before the new one begins, never a mix. Keyed by owner as well as name:
/// an admin's watch must not hold one owner's VM back behind another owner's live VM of the same name.
/// </summary>
internal static class MultiVmWatch
{
    private const int ChannelCapacity = 256;

    public static async IAsyncEnumerable<WatchItem> Run(
        CoreContext context,
        CallerIdentity caller,
        WatchRequest request,
        [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var channel = Channel.CreateBounded<WatchItem>(new BoundedChannelOptions(ChannelCapacity) { SingleReader = true, FullMode = BoundedChannelFullMode.Wait });
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var sync = new Lock();
        var lastByName = new Dictionary<VmKey, Task>();

        // VMs committed while the start is laid out wait for it, so that the start's notices come first.
        List<ManagedVm>? deferred = [];

        void Chain(VmKey name, Func<Task> work)
        {
            lock (sync)
            {
                var previous = lastByName.GetValueOrDefault(name) ?? Task.CompletedTask;
                lastByName[name] = Task.Run(
                    async () =>
                    {
                        await previous.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
                        await work().ConfigureAwait(false);
                    },
                    CancellationToken.None);
            }
        }

        void StartPump(VmKey key, EventJournal journal, ulong first) => Chain(key, () => Pump(journal, first, request, channel.Writer, stop.Token));

        // A VM created after the watch began is new in full: every event of it is delivered, from sequence 1.
        void OnAdded(ManagedVm vm)
        {
            if (!caller.MaySee(vm.Owner) || stop.IsCancellationRequested)
            {
                return;
            }

            lock (sync)
            {
                if (deferred is not null)
                {
                    deferred.Add(vm);
                    return;
                }
            }

            StartPump(vm.Key, vm.Journal, 1);
        }

        var existing = context.Registry.Subscribe(caller, OnAdded);
        using var shutdown = context.ShutdownToken.Register(() => channel.Writer.TryComplete());
        try
        {
            var plan = WatchStartPlan.Make(existing, request, (vmId, vmUid) => context.Lost.Find(caller, vmId, vmUid));
            if (request.Bookmarks is not null)
            {
                foreach (var ended in plan.Ended)
                {
                    // A replaced incarnation's end goes before its successor's events, whoever owns the successor.
                    var successor = plan.Starts.FirstOrDefault(s => s.Key.Id == ended.VmId);
                    Chain(successor?.Key ?? new VmKey(ended.VmId, caller.Identity), () => Notify(ended, channel.Writer, stop.Token));
                }
            }

            foreach (var start in plan.Starts)
            {
                StartPump(start.Key, start.Journal, start.First);
            }

            List<ManagedVm> late;
            lock (sync)
            {
                late = deferred;
                deferred = null;
            }

            foreach (var vm in late)
            {
                StartPump(vm.Key, vm.Journal, 1);
            }

            await foreach (var item in channel.Reader.ReadAllAsync(cancellationToken).ConfigureAwait(false))
            {
                yield return item;
            }
        }
        finally
        {
            context.Registry.Unsubscribe(OnAdded);
            await stop.CancelAsync().ConfigureAwait(false);
            Task[] all;
            lock (sync)
            {
                // The last task of each name waits for the ones before it.
                all = [.. lastByName.Values];
            }

            await Task.WhenAll(all).ConfigureAwait(false);
        }
    }

    private static async Task Notify(WatchNotice notice, ChannelWriter<WatchItem> writer, CancellationToken stop)
    {
        try
        {
            await writer.WriteAsync(notice, stop).ConfigureAwait(false);
        }
        catch (Exception e) when (e is OperationCanceledException or ChannelClosedException)
        {
        }
    }

    private static async Task Pump(EventJournal journal, ulong first, WatchRequest request, ChannelWriter<WatchItem> writer, CancellationToken stop)
    {
        try
        {
            await foreach (var item in journal.WatchItemsFrom(first, request.Filter, request.Bookmarks, stop).ConfigureAwait(false))
            {
                await writer.WriteAsync(item, stop).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException)
        {
        }
        catch (ChannelClosedException)
        {
        }
        catch (CoreException e)
        {
            writer.TryComplete(e);
        }
    }
}
