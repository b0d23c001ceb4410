using MemSvc.Hypervisor;

namespace MemSvc.LoadDriver.Suites;

/// <summary>
/// The baseline for attributes: one entry per page, as KVM's mem_attr_array (an xarray indexed by gfn, written
/// one gfn at a time by kvm_vm_set_mem_attributes). Shared pages hold no entry, as xa_erase leaves none.
/// </summary>
internal sealed class PerPageAttributeTable
{
    private const int PageShift = 12;
    private readonly Dictionary<ulong, MemoryAttributes> _pages = [];

    public int EntryCount => _pages.Count;

    public void Set(ulong address, ulong size, MemoryAttributes value)
    {
        var end = (address + size) >> PageShift;
        for (var gfn = address >> PageShift; gfn < end; gfn++)
        {
            if (value == MemoryAttributes.None)
            {
                _pages.Remove(gfn);
            }
            else
            {
                _pages[gfn] = value;
            }
        }
    }

    /// <summary>Maximal runs, as the range store returns them, built by walking every page.</summary>
    public List<AttributeRange> Get(ulong address, ulong size)
    {
        var runs = new List<AttributeRange>();
        var end = (address + size) >> PageShift;
        var runStart = address >> PageShift;
        var current = Lookup(runStart);
        for (var gfn = runStart + 1; gfn < end; gfn++)
        {
            var value = Lookup(gfn);
            if (value != current)
            {
                runs.Add(new AttributeRange(runStart << PageShift, (gfn - runStart) << PageShift, current));
                runStart = gfn;
                current = value;
            }
        }

        runs.Add(new AttributeRange(runStart << PageShift, (end - runStart) << PageShift, current));
        return runs;
    }

    private MemoryAttributes Lookup(ulong gfn) => _pages.TryGetValue(gfn, out var value) ? value : MemoryAttributes.None;
}
