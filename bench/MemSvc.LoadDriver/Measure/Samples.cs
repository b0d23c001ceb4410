using System.Diagnostics;

namespace MemSvc.LoadDriver.Measure;

/// <summary>Latency samples in microseconds, and their percentiles (nearest rank).</summary>
internal sealed class Samples
{
    private readonly List<double> _values = [];
    private bool _sorted;

    public int Count => _values.Count;

    public void Add(double micros)
    {
        _values.Add(micros);
        _sorted = false;
    }

    public void AddAll(Samples other)
    {
        _values.AddRange(other._values);
        _sorted = false;
    }

    public void AddElapsed(long startTimestamp, long endTimestamp) =>
        Add(Stopwatch.GetElapsedTime(startTimestamp, endTimestamp).TotalMicroseconds);

    public double Percentile(double p)
    {
        if (_values.Count == 0)
        {
            throw new InvalidOperationException("no samples");
        }

        if (!_sorted)
        {
            _values.Sort();
            _sorted = true;
        }

        var rank = (int)Math.Ceiling(p / 100 * _values.Count) - 1;
        return _values[Math.Clamp(rank, 0, _values.Count - 1)];
    }
}
