namespace MemSvc.Hypervisor.Memory;

/// <summary>
/// A map from 64-bit addresses to values, stored as maximal runs of equal values: setting or reading 1 TiB costs
/// what 4 KiB costs, and memory grows with the number of distinct runs, never with pages. Addresses without a
/// stored run have <see cref="DefaultValue"/>, which is never stored. Not thread-safe: owners lock.
/// </summary>
public sealed class RangeMap<T>
{
    // Sorted by Start, non-overlapping, never holding DefaultValue, adjacent runs always of different values.
    private readonly List<Run> _runs = [];
    private readonly EqualityComparer<T> _comparer = EqualityComparer<T>.Default;

    public RangeMap(T defaultValue)
    {
        DefaultValue = defaultValue;
    }

    public T DefaultValue { get; }

    /// <summary>Number of stored runs (runs of <see cref="DefaultValue"/> are not stored).</summary>
    public int RunCount => _runs.Count;

    /// <summary>The value at <paramref name="address"/>.</summary>
    public T Get(ulong address)
    {
        var i = FirstEndingAfter(address);
        return i < _runs.Count && _runs[i].Start <= address ? _runs[i].Value : DefaultValue;
    }

    /// <summary>Sets [start, end) to <paramref name="value"/>, overwriting what was there.</summary>
    public void Set(ulong start, ulong end, T value)
    {
        if (start >= end)
        {
            return;
        }

        var first = FirstEndingAfter(start);
        var last = first;
        while (last < _runs.Count && _runs[last].Start < end)
        {
            last++;
        }

        // Pieces of the first and last overlapped runs that stick out of [start, end) survive.
        var replacement = new List<Run>(3);
        if (first < last && _runs[first].Start < start)
        {
            replacement.Add(_runs[first] with { End = start });
        }

        if (!IsDefault(value))
        {
            replacement.Add(new Run(start, end, value));
        }

        if (first < last && _runs[last - 1].End > end)
        {
            replacement.Add(_runs[last - 1] with { Start = end });
        }

        _runs.RemoveRange(first, last - first);
        _runs.InsertRange(first, replacement);
        Coalesce(Math.Max(first - 1, 0), Math.Min(first + replacement.Count + 1, _runs.Count));
    }

    /// <summary>
    /// The runs covering [start, end) in address order, clipped to it, with gaps filled by
    /// <see cref="DefaultValue"/>: consecutive entries always differ in value.
    /// </summary>
    public IReadOnlyList<(ulong Start, ulong End, T Value)> Runs(ulong start, ulong end)
    {
        var result = new List<(ulong Start, ulong End, T Value)>();
        var cursor = start;
        for (var i = FirstEndingAfter(start); i < _runs.Count && _runs[i].Start < end && cursor < end; i++)
        {
            var run = _runs[i];
            if (run.Start > cursor)
            {
                result.Add((cursor, run.Start, DefaultValue));
                cursor = run.Start;
            }

            var runEnd = Math.Min(run.End, end);
            result.Add((cursor, runEnd, run.Value));
            cursor = runEnd;
        }

        if (cursor < end)
        {
            result.Add((cursor, end, DefaultValue));
        }

        return result;
    }

    /// <summary>Whether every address of [start, end) has <paramref name="value"/>.</summary>
    public bool IsUniform(ulong start, ulong end, T value)
    {
        var runs = Runs(start, end);
        return runs.Count == 1 && _comparer.Equals(runs[0].Value, value);
    }

    /// <summary>Whether some address of [start, end) has <paramref name="value"/>.</summary>
    public bool Any(ulong start, ulong end, T value)
    {
        foreach (var run in Runs(start, end))
        {
            if (_comparer.Equals(run.Value, value))
            {
                return true;
            }
        }

        return false;
    }

    private bool IsDefault(T value) => _comparer.Equals(value, DefaultValue);

    // Index of the first run whose End is above address (binary search).
    private int FirstEndingAfter(ulong address)
    {
        int lo = 0, hi = _runs.Count;
        while (lo < hi)
        {
            var mid = (lo + hi) >>> 1;
            if (_runs[mid].End <= address)
            {
                lo = mid + 1;
            }
            else
            {
                hi = mid;
            }
        }

        return lo;
    }

    private void Coalesce(int from, int to)
    {
        for (var i = Math.Min(to, _runs.Count - 1); i > from; i--)
        {
            var left = _runs[i - 1];
            var right = _runs[i];
            if (left.End == right.Start && _comparer.Equals(left.Value, right.Value))
            {
                _runs[i - 1] = left with { End = right.End };
                _runs.RemoveAt(i);
            }
        }
    }

    private readonly record struct Run(ulong Start, ulong End, T Value);
}
