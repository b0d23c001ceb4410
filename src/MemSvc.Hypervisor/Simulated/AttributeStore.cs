using MemSvc.Hypervisor.Memory;

namespace MemSvc.Hypervisor.Simulated;

/// <summary>
/// The per-VM memory attributes (kvm->mem_attr_array), independent of memslots (MA-6), stored as runs so that
/// 1 TiB costs what 4 KiB costs. Guarded by the VM's lock.
/// </summary>
internal sealed class AttributeStore
{
    private readonly RangeMap<MemoryAttributes> _map = new(MemoryAttributes.None);

    public int RunCount => _map.RunCount;

    public bool IsPrivate(ulong gpa) => (_map.Get(gpa) & MemoryAttributes.Private) != 0;

    public MemoryAttributes Get(ulong gpa) => _map.Get(gpa);

    /// <summary>kvm_range_has_memory_attributes: every page of [start, end) already has <paramref name="value"/>.</summary>
    public bool IsUniform(ulong start, ulong end, MemoryAttributes value) => _map.IsUniform(start, end, value);

    /// <summary>Whether [start, end) holds one attribute value throughout (hugepage_has_attrs).</summary>
    public bool IsUniform(ulong start, ulong end) => _map.IsUniform(start, end, _map.Get(start));

    /// <summary>Overwrites [start, end) (MA-7).</summary>
    public void Set(ulong start, ulong end, MemoryAttributes value) => _map.Set(start, end, value);

    public IReadOnlyList<AttributeRange> Runs(ulong start, ulong end)
    {
        var runs = _map.Runs(start, end);
        var result = new List<AttributeRange>(runs.Count);
        foreach (var (s, e, v) in runs)
        {
            result.Add(new AttributeRange(s, e - s, v));
        }

        return result;
    }
}
