namespace MemSvc.Hypervisor.Simulated;

/// <summary>
/// The model's process address space (one per hypervisor, as MemSvc is one process): where the shared sides of
/// memslots live, so that userspace_addr is a realistic user address and the kernel's address checks mean
/// something. Mappings are placed top-down below <see cref="Top"/>, 2 MiB aligned as mmap places large anonymous
/// mappings (so that THP can back them), and an exact address (<see cref="SharedBacking.At"/>) resolves to
/// whatever is mapped there, or to nothing.
/// </summary>
internal sealed class UserAddressSpace
{
    /// <summary>Where mmap starts placing mappings (below the stack, as on x86-64 Linux).</summary>
    public const ulong Top = 0x00007f0000000000;

    /// <summary>The lowest address handed out.</summary>
    public const ulong Bottom = 0x0000100000000000;

    private const ulong Alignment = 2UL << 20;

    private readonly Lock _lock = new();

    // Sorted by Start, non-overlapping.
    private readonly List<UserMapping> _mappings = [];

    public int Count
    {
        get
        {
            lock (_lock)
            {
                return _mappings.Count;
            }
        }
    }

    /// <summary>mmap of an anonymous region of <paramref name="size"/> bytes; ENOMEM when no gap is large enough.</summary>
    public AnonymousMapping MapAnonymous(ulong size)
    {
        lock (_lock)
        {
            var mapping = new AnonymousMapping(FindGap(size), size);
            Insert(mapping);
            return mapping;
        }
    }

    /// <summary>mmap(MAP_SHARED) of <paramref name="size"/> bytes of <paramref name="file"/> at <paramref name="offset"/>.</summary>
    public GuestMemfdMapping MapGuestMemfd(SimulatedGuestMemfd file, ulong offset, ulong size)
    {
        lock (_lock)
        {
            var mapping = new GuestMemfdMapping(FindGap(size), size, file, offset);
            Insert(mapping);
            return mapping;
        }
    }

    /// <summary>
    /// Puts <paramref name="mapping"/> at its own address (a planned handoff restores each shared side where the
    /// previous process had it, so that userspace_addr stays true); EEXIST-like EINVAL when something is there.
    /// </summary>
    public void Place(UserMapping mapping)
    {
        lock (_lock)
        {
            if (mapping.Start < Bottom || mapping.End > Top || mapping.End < mapping.Start || _mappings.Any(m => m.Start < mapping.End && mapping.Start < m.End))
            {
                throw Fail.Inval("mmap", $"[0x{mapping.Start:x}, 0x{mapping.End:x}) is taken or outside the user address space", "addr");
            }

            Insert(mapping);
        }
    }

    public void Unmap(UserMapping mapping)
    {
        lock (_lock)
        {
            if (mapping.IsMapped)
            {
                mapping.IsMapped = false;
                _mappings.Remove(mapping);
            }
        }
    }

    /// <summary>The mapping that contains <paramref name="address"/>, or null (an unmapped hva).</summary>
    public UserMapping? Find(ulong address)
    {
        lock (_lock)
        {
            int lo = 0, hi = _mappings.Count - 1;
            while (lo <= hi)
            {
                var mid = (lo + hi) >>> 1;
                var m = _mappings[mid];
                if (address < m.Start)
                {
                    hi = mid - 1;
                }
                else if (address - m.Start >= m.Size)
                {
                    lo = mid + 1;
                }
                else
                {
                    return m;
                }
            }

            return null;
        }
    }

    private static ulong RoundUp(ulong value, ulong alignment) =>
        value > ulong.MaxValue - (alignment - 1) ? ulong.MaxValue & ~(alignment - 1) : (value + alignment - 1) & ~(alignment - 1);

    // Highest 2 MiB-aligned gap of at least size bytes below Top (first fit, top down).
    private ulong FindGap(ulong size)
    {
        var need = RoundUp(Math.Max(size, 1), Alignment);
        var ceiling = Top;
        for (var i = _mappings.Count - 1; i >= -1; i--)
        {
            var floor = i >= 0 ? RoundUp(_mappings[i].End, Alignment) : Bottom;
            if (ceiling >= floor && ceiling - floor >= need)
            {
                return ceiling - need;
            }

            if (i >= 0)
            {
                ceiling = Math.Min(ceiling, _mappings[i].Start & ~(Alignment - 1));
            }
        }

        throw new HypervisorException(Errno.ENOMEM, "mmap", $"no free 0x{need:x}-byte range in the user address space", "length");
    }

    private void Insert(UserMapping mapping)
    {
        int lo = 0, hi = _mappings.Count;
        while (lo < hi)
        {
            var mid = (lo + hi) >>> 1;
            if (_mappings[mid].Start < mapping.Start)
            {
                lo = mid + 1;
            }
            else
            {
                hi = mid;
            }
        }

        _mappings.Insert(lo, mapping);
    }
}
