using MemSvc.Hypervisor.Memory;

namespace MemSvc.Hypervisor.Simulated;

/// <summary>
/// Which guest pages are mapped, and at which level (the SPTEs), stored as runs of levels by gpa: consecutive
/// mappings of one level coalesce, so a mapped GiB costs a run, not 262,144 entries. Zaps round out to the huge
/// mappings they touch, as zapping one 4 KiB of a 2 MiB SPTE drops the whole SPTE. Guarded by the VM's lock.
/// </summary>
internal sealed class ShadowMmu
{
    private readonly RangeMap<MappingLevel> _levels = new(MappingLevel.None);

    /// <summary>Times a zap removed at least one mapping (kvm_flush_remote_tlbs after kvm_unmap_gfn_range).</summary>
    public long FlushCount { get; private set; }

    public MappingLevel LevelAt(ulong gpa) => _levels.Get(gpa);

    public void Map(ulong gpa, MappingLevel level)
    {
        var bytes = MappingLevels.Bytes(level);
        var start = gpa & ~(bytes - 1);
        _levels.Set(start, start + bytes, level);
    }

    /// <summary>Unmaps every mapping that intersects [start, end); true when something was mapped there.</summary>
    public bool Zap(ulong start, ulong end)
    {
        if (start >= end || _levels.IsUniform(start, end, MappingLevel.None))
        {
            return false;
        }

        var first = _levels.Get(start);
        if (first > MappingLevel.Page4K)
        {
            start &= ~(MappingLevels.Bytes(first) - 1);
        }

        var last = _levels.Get(end - 1);
        if (last > MappingLevel.Page4K)
        {
            var bytes = MappingLevels.Bytes(last);
            var rounded = ((end - 1) & ~(bytes - 1)) + bytes;
            end = rounded == 0 ? ulong.MaxValue : rounded;
        }

        _levels.Set(start, end, MappingLevel.None);
        FlushCount++;
        return true;
    }

    public void ZapAll()
    {
        Zap(0, ulong.MaxValue);
    }

    /// <summary>4 KiB pages covered by mappings of any level.</summary>
    public ulong MappedPageCount()
    {
        ulong pages = 0;
        foreach (var (start, end, level) in _levels.Runs(0, ulong.MaxValue))
        {
            if (level != MappingLevel.None)
            {
                pages += (end - start) >> KvmLimits.PageShift;
            }
        }

        return pages;
    }
}
