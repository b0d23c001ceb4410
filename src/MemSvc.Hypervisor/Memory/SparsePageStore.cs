namespace MemSvc.Hypervisor.Memory;

/// <summary>
/// Bytes over a 64-bit offset space, stored sparsely: absent pages read as zero, uniform fills are kept as runs
/// (filling 1 GiB with one byte value costs one run), and only pages written with arbitrary bytes or partially
/// filled get a 4 KiB buffer. Thread-safe: every call takes the store's own lock, a leaf lock that callers may
/// take while holding theirs.
/// </summary>
public sealed partial class SparsePageStore
{
    public const ulong PageSize = 4096;
    private const ulong PageMask = PageSize - 1;

    private readonly Lock _lock = new();

    // Fill value of every page that has no buffer; 0 (absent) is the default and never stored.
    private readonly RangeMap<byte> _fills = new(0);

    // Created on first need, so that an untouched store costs a few hundred bytes.
    private Dictionary<ulong, byte[]>? _buffers;

    /// <summary>Pages held as individual 4 KiB buffers.</summary>
    public int BufferedPageCount
    {
        get
        {
            lock (_lock)
            {
                return _buffers?.Count ?? 0;
            }
        }
    }

    /// <summary>Runs of uniform non-zero fill.</summary>
    public int FillRunCount
    {
        get
        {
            lock (_lock)
            {
                return _fills.RunCount;
            }
        }
    }

    /// <summary>Sets every byte of [offset, offset+length) to <paramref name="value"/>.</summary>
    public void Fill(ulong offset, ulong length, byte value)
    {
        if (length == 0)
        {
            return;
        }

        var end = offset + length;
        lock (_lock)
        {
            _version++;
            var fullStart = AlignUp(offset);
            var fullEnd = end & ~PageMask;
            if (fullStart < fullEnd)
            {
                RemoveBuffers(fullStart, fullEnd);
                _fills.Set(fullStart, fullEnd, value);
                FillPartial(offset, Math.Min(end, fullStart), value);
                FillPartial(Math.Max(fullEnd, offset), end, value);
            }
            else
            {
                // The range lies within one page or straddles one page boundary without covering a whole page.
                var boundary = Math.Min(end, (offset & ~PageMask) + PageSize);
                FillPartial(offset, boundary, value);
                FillPartial(boundary, end, value);
            }
        }
    }

    /// <summary>Sets [offset, offset+length) to zero and frees what backed it.</summary>
    public void Zero(ulong offset, ulong length) => Fill(offset, length, 0);

    /// <summary>Drops every page: the store reads as zero everywhere.</summary>
    public void Clear()
    {
        lock (_lock)
        {
            _version++;
            _fills.Set(0, ulong.MaxValue, 0);
            _buffers = null;
        }
    }

    public void Write(ulong offset, ReadOnlySpan<byte> source)
    {
        lock (_lock)
        {
            _version++;
            while (!source.IsEmpty)
            {
                var inPage = (int)Math.Min((ulong)source.Length, PageSize - (offset & PageMask));
                var buffer = Materialize(offset & ~PageMask);
                source[..inPage].CopyTo(buffer.AsSpan((int)(offset & PageMask)));
                source = source[inPage..];
                offset += (ulong)inPage;
            }
        }
    }

    public void Read(ulong offset, Span<byte> destination)
    {
        lock (_lock)
        {
            while (!destination.IsEmpty)
            {
                var page = offset & ~PageMask;
                var inPage = (int)Math.Min((ulong)destination.Length, PageSize - (offset & PageMask));
                if (_buffers is not null && _buffers.TryGetValue(page, out var buffer))
                {
                    buffer.AsSpan((int)(offset & PageMask), inPage).CopyTo(destination);
                }
                else
                {
                    destination[..inPage].Fill(_fills.Get(page));
                }

                destination = destination[inPage..];
                offset += (ulong)inPage;
            }
        }
    }

    /// <summary>The byte at <paramref name="offset"/>.</summary>
    public byte ReadByte(ulong offset)
    {
        Span<byte> one = stackalloc byte[1];
        Read(offset, one);
        return one[0];
    }

    /// <summary>
    /// Finds the first byte of [offset, offset+length) (within one page) that is not <paramref name="value"/>.
    /// </summary>
    public bool TryFindMismatchInPage(ulong offset, int length, byte value, out ulong mismatchOffset, out byte actual)
    {
        lock (_lock)
        {
            var page = offset & ~PageMask;
            if (_buffers is not null && _buffers.TryGetValue(page, out var buffer))
            {
                var span = buffer.AsSpan((int)(offset & PageMask), length);
                var index = span.IndexOfAnyExcept(value);
                if (index >= 0)
                {
                    mismatchOffset = offset + (ulong)index;
                    actual = span[index];
                    return true;
                }
            }
            else
            {
                var fill = _fills.Get(page);
                if (fill != value)
                {
                    mismatchOffset = offset;
                    actual = fill;
                    return true;
                }
            }

            mismatchOffset = 0;
            actual = 0;
            return false;
        }
    }

    // Offsets stay below 2^63 (file sizes are loff_t, user addresses below 2^47), so this cannot wrap.
    private static ulong AlignUp(ulong value) => (value + PageMask) & ~PageMask;

    // Fills [start, end), which lies within one page (or is empty).
    private void FillPartial(ulong start, ulong end, byte value)
    {
        if (start >= end)
        {
            return;
        }

        var page = start & ~PageMask;
        if (_buffers is null || !_buffers.ContainsKey(page))
        {
            if (_fills.Get(page) == value)
            {
                return;
            }
        }

        var buffer = Materialize(page);
        buffer.AsSpan((int)(start - page), (int)(end - start)).Fill(value);
    }

    private byte[] Materialize(ulong page)
    {
        _buffers ??= [];
        if (!_buffers.TryGetValue(page, out var buffer))
        {
            buffer = new byte[PageSize];
            var fill = _fills.Get(page);
            if (fill != 0)
            {
                buffer.AsSpan().Fill(fill);
            }

            _buffers[page] = buffer;
        }

        return buffer;
    }

    private void RemoveBuffers(ulong start, ulong end)
    {
        if (_buffers is null || _buffers.Count == 0)
        {
            return;
        }

        var pages = (end - start) / PageSize;
        if (pages <= (ulong)_buffers.Count)
        {
            for (var page = start; page < end; page += PageSize)
            {
                _buffers.Remove(page);
            }

            return;
        }

        List<ulong>? doomed = null;
        foreach (var page in _buffers.Keys)
        {
            if (page >= start && page < end)
            {
                (doomed ??= []).Add(page);
            }
        }

        if (doomed is not null)
        {
            foreach (var page in doomed)
            {
                _buffers.Remove(page);
            }
        }
    }
}
