namespace MemSvc.Hypervisor.Memory;

public sealed partial class SparsePageStore
{
    // Counts every change (under the lock), so that contents copied ahead of a handoff's freeze are known to be
    // still true at the freeze.
    private long _version;

    /// <summary>The store's contents as plain data (a planned handoff carries them to the next process).</summary>
    public PageStoreState Export()
    {
        lock (_lock)
        {
            return ExportLocked();
        }
    }

    /// <summary>The contents now and which change they are at, taken in one step: a copy sent ahead of a freeze.</summary>
    public StoreSnapshot Snapshot()
    {
        lock (_lock)
        {
            return new StoreSnapshot(this, _version, ExportLocked());
        }
    }

    /// <summary>Whether <paramref name="snapshot"/> is of this store and nothing changed it since.</summary>
    public bool IsUnchangedSince(StoreSnapshot snapshot)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        lock (_lock)
        {
            return ReferenceEquals(snapshot.Store, this) && snapshot.Version == _version;
        }
    }

    private PageStoreState ExportLocked()
    {
        var fills = new List<ValueRun>();
        foreach (var (start, end, value) in _fills.Runs(0, ulong.MaxValue))
        {
            if (value != 0)
            {
                fills.Add(new ValueRun(start, end, value));
            }
        }

        var pages = _buffers is null
            ? []
            : _buffers.OrderBy(b => b.Key).Select(b => new PageState(b.Key, (byte[])b.Value.Clone())).ToList();
        return new PageStoreState(fills, pages);
    }

    /// <summary>A store holding what <paramref name="state"/> describes; a page that is not 4 KiB and aligned is refused.</summary>
    public static SparsePageStore Import(PageStoreState state)
    {
        ArgumentNullException.ThrowIfNull(state);
        var store = new SparsePageStore();
        store.Load(state);
        return store;
    }

    /// <summary>Replaces this store's contents with <paramref name="state"/>.</summary>
    public void Load(PageStoreState state)
    {
        ArgumentNullException.ThrowIfNull(state);
        lock (_lock)
        {
            _version++;
            _fills.Set(0, ulong.MaxValue, 0);
            _buffers = null;
            foreach (var run in state.Fills)
            {
                _fills.Set(run.Start, run.End, checked((byte)run.Value));
            }

            foreach (var page in state.Pages)
            {
                if (page.Bytes.Length != (int)PageSize || (page.Offset & PageMask) != 0)
                {
                    throw new ArgumentException($"page at 0x{page.Offset:x} is not an aligned 4 KiB page", nameof(state));
                }

                _buffers ??= [];
                _buffers[page.Offset] = (byte[])page.Bytes.Clone();
            }
        }
    }
}
