namespace MemSvc.Hypervisor.Simulated;

/// <summary>
/// The memslots of one address space, by id and sorted by gpa (kvm_memslots' id hash and gfn tree). Guarded by
/// the VM's lock. Lookups by gpa are a binary search over a sorted array, with no allocation.
/// </summary>
internal sealed class MemslotTable
{
    private readonly Dictionary<uint, Memslot> _byId = [];
    private readonly List<Memslot> _byGpa = [];

    public int Count => _byId.Count;

    public IEnumerable<Memslot> All => _byGpa;

    public Memslot? Get(uint id) => _byId.GetValueOrDefault(id);

    /// <summary>The slot containing <paramref name="gpa"/>, or null.</summary>
    public Memslot? Find(ulong gpa)
    {
        var slots = _byGpa;
        int lo = 0, hi = slots.Count - 1;
        while (lo <= hi)
        {
            var mid = (lo + hi) >>> 1;
            var s = slots[mid];
            if (gpa < s.Gpa)
            {
                hi = mid - 1;
            }
            else if (gpa - s.Gpa >= s.Size)
            {
                lo = mid + 1;
            }
            else
            {
                return s;
            }
        }

        return null;
    }

    /// <summary>kvm_check_memslot_overlap: another slot (not <paramref name="exceptId"/>) intersects [start, end).</summary>
    public bool Overlaps(uint exceptId, ulong start, ulong end)
    {
        // Slots do not overlap each other, so sorted by gpa they are sorted by end too.
        int lo = 0, hi = _byGpa.Count;
        while (lo < hi)
        {
            var mid = (lo + hi) >>> 1;
            if (_byGpa[mid].End <= start)
            {
                lo = mid + 1;
            }
            else
            {
                hi = mid;
            }
        }

        for (var i = lo; i < _byGpa.Count && _byGpa[i].Gpa < end; i++)
        {
            if (_byGpa[i].Id != exceptId)
            {
                return true;
            }
        }

        return false;
    }

    public void Add(Memslot slot)
    {
        _byId.Add(slot.Id, slot);
        Insert(slot);
    }

    public void Remove(Memslot slot)
    {
        _byId.Remove(slot.Id);
        _byGpa.Remove(slot);
    }

    /// <summary>KVM_MR_MOVE: the slot keeps its id and gets a new gpa.</summary>
    public void Move(Memslot slot, ulong gpa)
    {
        _byGpa.Remove(slot);
        slot.Gpa = gpa;
        Insert(slot);
    }

    private void Insert(Memslot slot)
    {
        int lo = 0, hi = _byGpa.Count;
        while (lo < hi)
        {
            var mid = (lo + hi) >>> 1;
            if (_byGpa[mid].Gpa < slot.Gpa)
            {
                lo = mid + 1;
            }
            else
            {
                hi = mid;
            }
        }

        _byGpa.Insert(lo, slot);
    }
}
