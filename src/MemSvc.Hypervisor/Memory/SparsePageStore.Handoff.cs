namespace MemSvc.Hypervisor.Memory;

public sealed partial class SparsePageStore
{
    /// <summary>The store's contents as plain data (a planned handoff carries them to the next process).</summary>
    public PageStoreState Export()
    {
        lock (_lock)
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
