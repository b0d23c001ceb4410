using System.Diagnostics.Metrics;

namespace MemSvc.Core.Telemetry;

/// <summary>
/// An observable gauge over every live VM manager (memsvc.core.memory.bytes, memsvc.core.journal.events): the
/// gauge is process-wide like its Meter, so it reads each registered manager's VMs and a disposed manager's VMs
/// drop out of it.
/// </summary>
internal sealed class ManagersGauge
{
    private readonly Lock _lock = new();
    private readonly List<Func<IEnumerable<Measurement<long>>>> _sources = [];

    public ManagersGauge(Meter meter, string name, string unit, string description)
    {
        meter.CreateObservableGauge(name, Observe, unit, description);
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
