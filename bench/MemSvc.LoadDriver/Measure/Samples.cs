using System.Diagnostics;
using HdrHistogram;

namespace MemSvc.LoadDriver.Measure;

/// <summary>
/// Latency samples in microseconds and their percentiles, recorded in an HdrHistogram: constant memory however long
/// a run is, no allocation per sample, and percentiles to three significant digits (0.1%) from nanoseconds to an
/// hour.
/// </summary>
internal sealed class Samples
{
    private const long NanosPerMicro = 1_000;
    private const long HighestNanos = 3_600L * 1_000_000_000;

    private readonly LongHistogram _nanos = new(HighestNanos, numberOfSignificantValueDigits: 3);

    public int Count => (int)_nanos.TotalCount;

    public void Add(double micros) =>
        _nanos.RecordValue(Math.Clamp((long)Math.Round(micros * NanosPerMicro), 0, HighestNanos));

    public void AddAll(Samples other) => _nanos.Add(other._nanos);

    public void AddElapsed(long startTimestamp, long endTimestamp) =>
        Add(Stopwatch.GetElapsedTime(startTimestamp, endTimestamp).TotalMicroseconds);

    /// <summary>The value at percentile <paramref name="p"/> (0-100), in microseconds.</summary>
    public double Percentile(double p)
    {
        if (_nanos.TotalCount == 0)
        {
            throw new InvalidOperationException("no samples");
        }

        return (double)_nanos.GetValueAtPercentile(p) / NanosPerMicro;
    }
}
