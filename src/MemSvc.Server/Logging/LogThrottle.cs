namespace MemSvc.Server;

/// <summary>
/// Lets one log line through per <see cref="Interval"/> and counts the ones held back, for events a hostile client
/// can cause at will (refused connections, garbled requests): without it, each costs a log line and a flood of
/// them fills the disk (12.8 MB in 0.7 s in the probe). The line that gets through says how many were held back.
/// </summary>
internal sealed class LogThrottle(TimeSpan interval, TimeProvider time)
{
    private readonly Lock _lock = new();
    private long _nextAt = long.MinValue;
    private long _suppressed;

    public LogThrottle(TimeSpan interval)
        : this(interval, TimeProvider.System)
    {
    }

    public TimeSpan Interval => interval;

    /// <summary>True when this event may be logged; <paramref name="suppressed"/> is then how many were held back since the last one.</summary>
    public bool TryAcquire(out long suppressed)
    {
        var now = time.GetTimestamp();
        lock (_lock)
        {
            if (now < _nextAt)
            {
                _suppressed++;
                suppressed = 0;
                return false;
            }

            _nextAt = now + (long)(interval.TotalSeconds * time.TimestampFrequency);
            suppressed = _suppressed;
            _suppressed = 0;
            return true;
        }
    }
}
