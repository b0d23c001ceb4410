using MemSvc.Core.Identity;

namespace MemSvc.Server.Execution;

/// <summary>The short way through <see cref="FairWorkers"/>: an operation run on the caller's thread, in order with the owner's work on its VM.</summary>
internal sealed partial class FairWorkers
{
    /// <summary>
    /// Runs <paramref name="work"/> on the calling thread, in order with the owner's work on <paramref name="vmId"/>,
    /// when none of that work runs or waits now; false (nothing run) otherwise. For operations known to be short,
    /// whose latency a worker's two thread hand-offs would double (a 4 KiB fault resolution).
    /// </summary>
    public bool TryRunInline<T>(CallerIdentity caller, string vmId, Func<T> work, out T result)
    {
        var key = caller.Identity + "/" + vmId;
        lock (_sync)
        {
            if (_stopping || _busyVms.Contains(key) || (_owners.TryGetValue(caller.Identity, out var queue) && queue.Items.Any(i => i.Vm == key)))
            {
                result = default!;
                return false;
            }

            _busyVms.Add(key);
        }

        try
        {
            result = work();
            return true;
        }
        finally
        {
            lock (_sync)
            {
                _busyVms.Remove(key);

                // Work queued behind this key may run now; with nothing queued, no worker is woken for nothing.
                if (_ready.First is not null)
                {
                    Monitor.Pulse(_sync);
                }
            }
        }
    }
}
