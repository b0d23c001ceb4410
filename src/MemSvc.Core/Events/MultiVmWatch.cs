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
/// WATCHER_FELL_BEHIND like a single-VM watch.
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
        var pumps = new List<Task>();
        var pumpsLock = new Lock();

        void StartPump(ManagedVm vm, ulong first)
        {
            var pump = Task.Run(() => Pump(vm, first, request, channel.Writer, stop.Token), CancellationToken.None);
            lock (pumpsLock)
            {
                pumps.Add(pump);
            }
        }

        // A VM created after the watch began is new in full: every event of it is delivered, from sequence 1.
        void OnAdded(ManagedVm vm)
        {
            if (caller.MaySee(vm.Owner) && !stop.IsCancellationRequested)
            {
                StartPump(vm, 1);
            }
        }

        var existing = context.Registry.Subscribe(caller, OnAdded);
        using var shutdown = context.ShutdownToken.Register(() => channel.Writer.TryComplete());
        try
        {
            foreach (var vm in existing)
            {
                StartPump(vm, vm.Journal.ResolveStart(StartOf(vm, request.VmStarts, request.StartSequence)));
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
            lock (pumpsLock)
            {
                all = [.. pumps];
            }

            await Task.WhenAll(all).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// A VM's own start, else the watch's. A per-VM start past the VM's next sequence cannot come from this VM (a
    /// watcher only holds positions of events that exist): it is a position in an earlier VM of the same name,
    /// deleted since, so this one is new to the watcher in full and starts at 1.
    /// </summary>
    private static ulong StartOf(ManagedVm vm, IReadOnlyDictionary<string, ulong> vmStarts, ulong startSequence)
    {
        if (!vmStarts.TryGetValue(vm.Id, out var start))
        {
            return startSequence;
        }

        return start > vm.Journal.NextSequence ? 1 : start;
    }

    private static async Task Pump(ManagedVm vm, ulong first, WatchRequest request, ChannelWriter<WatchItem> writer, CancellationToken stop)
    {
        try
        {
            await foreach (var item in vm.Journal.WatchItemsFrom(first, request.Filter, request.Bookmarks, stop).ConfigureAwait(false))
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
