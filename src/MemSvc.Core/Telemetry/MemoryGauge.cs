using System.Diagnostics.Metrics;

namespace MemSvc.Core.Telemetry;

/// <summary>
/// The observable gauge memsvc.core.memory.bytes over every live VM manager: the gauge is process-wide like its
/// Meter, so it reads each registered manager's VMs and a disposed manager's VMs drop out of it.
/// </summary>
internal sealed class MemoryGauge
{
    private readonly Lock _lock = new();
    private readonly List<Func<IEnumerable<Measurement<long>>>> _sources = [];

    public MemoryGauge(Meter meter)
    {
        meter.CreateObservableGauge("memsvc.core.memory.bytes", Observe, "By", "Memslot bytes per VM by attribute (private or shared)");
    }

    public void Add(Func<IEnumerable<Measurement<long>>> source)
    {
        lock (_lock)
        {
            _sources.Add(source);
        }
    }

    public void Remove(Func<IEnumerable<Measurement<long>>> source)
    {
        lock (_lock)
        {
            _sources.Remove(source);
        }
    }

    // Reads the sources outside the lock: each takes its VMs' memory locks, and a manager being added or disposed
    // meanwhile must not wait for a collection.
    private IEnumerable<Measurement<long>> Observe()
    {
        Func<IEnumerable<Measurement<long>>>[] sources;
        lock (_lock)
        {
            sources = [.. _sources];
        }

        var measurements = new List<Measurement<long>>();
        foreach (var source in sources)
        {
            measurements.AddRange(source());
        }

        return measurements;
    }
}
