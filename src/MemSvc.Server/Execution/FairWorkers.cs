using MemSvc.Core.Errors;
using MemSvc.Core.Identity;

namespace MemSvc.Server.Execution;

/// <summary>
/// Dedicated threads for Core's blocking operations. A handler hands its operation over and awaits it, so no
/// thread-pool thread waits on a VM's lock or a long conversion, and Kestrel always has threads to read requests.
/// <para>
/// Fairness: each owner has its own queue, and the workers serve owners round robin: an owner that queues 64 slow
/// calls does not make the next owner's call wait behind them, only behind what is already running. An owner may
/// occupy at most <see cref="PerOwner"/> workers at once, so that its slow calls always leave a worker for others.
/// Operations on one VM run one at a time, in order: Core would serialize them on the VM's lock anyway, and a
/// worker that waited on that lock would be a worker lost to every other VM. Large fault resolutions, which free a
/// waiting vCPU, do not queue here: they have <see cref="ResolutionWorkers"/>, at the server's priority.
/// </para>
/// <para>
/// A queued operation whose call is cancelled (client gone, deadline passed) is dropped and never runs; one that
/// started runs to its end and its answer is given, so that a call that was applied is never reported as failed.
/// </para>
/// </summary>
internal sealed partial class FairWorkers : IDisposable
{
    // Monitor rather than Lock: idle workers wait on it.
    private readonly object _sync = new();

    // Only owners with work queued or running, so that the table cannot grow with the number of owners ever seen.
    private readonly Dictionary<string, OwnerQueue> _owners = new(StringComparer.Ordinal);

    // Owners with work queued, the next to serve first; an owner served goes to the back.
    private readonly LinkedList<OwnerQueue> _ready = new();
    private readonly HashSet<string> _busyVms = new(StringComparer.Ordinal);
    private readonly Thread[] _threads;
    private bool _stopping;

    /// <param name="nice">The workers' nice value (<see cref="WorkerOptions.Nice"/>); 0 leaves their priority alone.</param>
    /// <param name="name">The threads' name, numbered.</param>
    public FairWorkers(int count, int perOwner, int nice = 0, string name = "memsvc worker")
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(perOwner, 1);
        PerOwner = perOwner;
        _threads = [.. Enumerable.Range(0, count).Select(i => new Thread(() => Work(nice)) { IsBackground = true, Name = $"{name} {i}" })];
        foreach (var thread in _threads)
        {
            thread.Start();
        }
    }

    public int Count => _threads.Length;

    public int PerOwner { get; }

    /// <summary>Operations queued and not yet started, over every owner.</summary>
    public int Queued
    {
        get
        {
            lock (_sync)
            {
                return _owners.Values.Sum(o => o.Items.Count);
            }
        }
    }

    /// <summary>Runs a call's Core operation on a worker, in the caller's owner's share, in order with the owner's other work on <paramref name="vmId"/>.</summary>
    /// <param name="vmId">The VM the operation touches, or null. Keyed with the owner: another owner's call on the same name
    /// (NOT_FOUND for it) must not wait behind this owner's work, or its delay would tell that the VM exists.</param>
    public Task<T> RunAsync<T>(CallerIdentity caller, string? vmId, Func<T> work, CancellationToken cancellationToken) =>
        RunAsync(caller.Identity, vmId is null ? null : caller.Identity + "/" + vmId, work, cancellationToken);

    /// <summary>As <see cref="RunAsync{T}(CallerIdentity, string?, Func{T}, CancellationToken, bool)"/>, for an operation with no result.</summary>
    public Task RunAsync(CallerIdentity caller, string? vmId, Action work, CancellationToken cancellationToken) =>
        RunAsync(caller, vmId, () =>
        {
            work();
            return true;
        }, cancellationToken);

    /// <summary>Runs <paramref name="work"/> on a worker and completes with its result or its exception.</summary>
    /// <param name="owner">Whose share the work counts against.</param>
    /// <param name="vm">The VM the work changes or reads under its lock; null for work tied to no VM.</param>
    /// <param name="cancellationToken">Drops the work while it is still queued; ignored once it has started.</param>
    public Task<T> RunAsync<T>(string owner, string? vm, Func<T> work, CancellationToken cancellationToken)
    {
        var item = new WorkItem<T>(owner, vm, work);
        item.Registration = cancellationToken.Register(
            static state =>
            {
                var (workers, queued) = ((FairWorkers, WorkItem))state!;
                workers.Cancel(queued);
            },
            (this, (WorkItem)item));
        if (cancellationToken.IsCancellationRequested)
        {
            item.Registration.Dispose();
            return Task.FromCanceled<T>(cancellationToken);
        }

        lock (_sync)
        {
            if (_stopping)
            {
                item.Registration.Unregister();
                return Task.FromException<T>(Stopping());
            }

            if (!_owners.TryGetValue(owner, out var queue))
            {
                queue = new OwnerQueue(owner);
                _owners.Add(owner, queue);
            }

            item.Node = queue.Items.AddLast(item);
            queue.ReadyNode ??= _ready.AddLast(queue);
            Monitor.Pulse(_sync);
        }

        return item.Task;
    }

    /// <summary>Fails every queued operation (the server is stopping); running ones finish on their own.</summary>
    public void Dispose()
    {
        List<WorkItem> dropped;
        lock (_sync)
        {
            _stopping = true;
            dropped = [.. _owners.Values.SelectMany(o => o.Items)];
            foreach (var queue in _owners.Values)
            {
                queue.Items.Clear();
                queue.ReadyNode = null;
            }

            foreach (var item in dropped)
            {
                item.Node = null;
            }

            _ready.Clear();
            Monitor.PulseAll(_sync);
        }

        foreach (var item in dropped)
        {
            item.Fail(Stopping());
        }
    }

    private static CoreException Stopping() => new(ErrorKind.Unavailable, ErrorReasons.ShuttingDown, "the server is stopping");

    private void Work(int nice)
    {
        // Best effort: where the kernel refuses, the worker runs at the server's priority, as with Nice 0.
        WorkerPriority.TrySetNice(nice);
        while (true)
        {
            WorkItem? item;
            lock (_sync)
            {
                while ((item = TakeNext()) is null)
                {
                    if (_stopping)
                    {
                        return;
                    }

                    Monitor.Wait(_sync);
                }

                // Wakes are passed on one at a time: more work is queued, so another idle worker looks at it (it
                // may be runnable, or wait on a busy VM). Waking every idle worker on every change cost each
                // operation as many futile thread wake-ups on the cores the request path needs.
                if (_ready.First is not null)
                {
                    Monitor.Pulse(_sync);
                }
            }

            item.Run();
            lock (_sync)
            {
                var queue = _owners[item.Owner];
                queue.Running--;
                if (item.Vm is not null)
                {
                    _busyVms.Remove(item.Vm);
                }

                Forget(queue);

                // A VM or an owner's share came free: this worker looks for what became runnable first, at the top
                // of its loop, and passes the wake on if more is queued.
            }
        }
    }

    // Under _sync: the first runnable item of the first owner, in round-robin order, that has one.
    private WorkItem? TakeNext()
    {
        for (var owner = _ready.First; owner is not null; owner = owner.Next)
        {
            var queue = owner.Value;
            for (var node = queue.Items.First; node is not null; node = node.Next)
            {
                var item = node.Value;
                if (queue.Running >= PerOwner)
                {
                    break;
                }

                if (item.Vm is not null && _busyVms.Contains(item.Vm))
                {
                    continue;
                }

                queue.Items.Remove(node);
                item.Node = null;
                queue.Running++;
                if (item.Vm is not null)
                {
                    _busyVms.Add(item.Vm);
                }

                _ready.Remove(owner);
                queue.ReadyNode = queue.Items.Count > 0 ? _ready.AddLast(queue) : null;
                return item;
            }
        }

        return null;
    }

    private void Cancel(WorkItem item)
    {
        lock (_sync)
        {
            if (item.Node is null)
            {
                // Started, finished or dropped already: a started operation is never abandoned.
                return;
            }

            var queue = _owners[item.Owner];
            queue.Items.Remove(item.Node);
            item.Node = null;
            if (queue.Items.Count == 0 && queue.ReadyNode is not null)
            {
                _ready.Remove(queue.ReadyNode);
                queue.ReadyNode = null;
            }

            Forget(queue);
        }

        item.Cancel();
    }

    // Under _sync.
    private void Forget(OwnerQueue queue)
    {
        if (queue.Running == 0 && queue.Items.Count == 0)
        {
            _owners.Remove(queue.Owner);
        }
    }
}
