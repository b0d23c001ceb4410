using MemSvc.Hypervisor.Memory;

namespace MemSvc.Hypervisor.Simulated;

/// <summary>
/// A guest_memfd file: fixed size, sparse pages, the memslots bound to it, and the life cycle of the kernel's
/// file (the fd and every mmap of it hold a reference; when both are gone the file is released, its bindings are
/// nulled and its guest mappings zapped: LC-3). It pins its VM (LC-1): it stays usable after the VM is disposed.
/// Guarded by the owning VM's lock.
/// </summary>
public sealed partial class SimulatedGuestMemfd : IGuestMemfd
{
    private static long _nextInode = 0x1000;

    private readonly SimulatedVm _owner;
    private readonly RangeMap<bool> _allocated = new(false);
    private readonly List<Memslot> _bindings = [];
    private bool _fdOpen = true;
    private int _mappings;

    internal SimulatedGuestMemfd(SimulatedVm owner, ulong size, GuestMemfdFlags flags)
    {
        _owner = owner;
        Size = size;
        Flags = flags;
        Inode = (ulong)Interlocked.Increment(ref _nextInode);
    }

    public ulong Size { get; }

    public GuestMemfdFlags Flags { get; }

    public ulong Inode { get; }

    public bool IsClosed
    {
        get
        {
            lock (_owner.SyncRoot)
            {
                return !_fdOpen;
            }
        }
    }

    /// <summary>Bytes allocated in the file (st_blocks · 512): by fallocate or by the guest's first touch.</summary>
    public ulong AllocatedBytes
    {
        get
        {
            lock (_owner.SyncRoot)
            {
                ulong bytes = 0;
                foreach (var (start, end, allocated) in _allocated.Runs(0, Size))
                {
                    bytes += allocated ? end - start : 0;
                }

                return bytes;
            }
        }
    }

    /// <summary>Whether the file was released (fd closed and no mapping left): its bindings are gone.</summary>
    public bool IsReleased
    {
        get
        {
            lock (_owner.SyncRoot)
            {
                return !_fdOpen && _mappings == 0;
            }
        }
    }

    internal SimulatedVm Owner => _owner;

    internal SparsePageStore Store { get; } = new();

    internal bool HasMmap => (Flags & GuestMemfdFlags.Mmap) != 0;

    internal bool FdOpen => _fdOpen;

    public void Fallocate(FallocateMode mode, long offset, long length)
    {
        lock (_owner.SyncRoot)
        {
            if (!_fdOpen)
            {
                throw Fail.Closed("fallocate", "the guest_memfd");
            }

            GuestMemfdRules.CheckFallocate(mode, offset, length, Size);
            var start = (ulong)offset;
            if ((mode & FallocateMode.PunchHole) != 0)
            {
                // Punching beyond EOF is a no-op (FA-7): truncate_inode_pages_range clips to i_size.
                var end = Math.Min(start + (ulong)length, Size);
                if (start < end)
                {
                    PunchLocked(start, end);
                }
            }
            else
            {
                _allocated.Set(start, start + (ulong)length, true);
            }
        }
    }

    public void ReadMapped(ulong offset, Span<byte> destination)
    {
        lock (_owner.SyncRoot)
        {
            CheckHostAccess(offset, (ulong)destination.Length);
            Store.Read(offset, destination);
        }
    }

    public void WriteMapped(ulong offset, ReadOnlySpan<byte> source)
    {
        lock (_owner.SyncRoot)
        {
            CheckHostAccess(offset, (ulong)source.Length);
            Store.Write(offset, source);
            MarkAllocated(offset, (ulong)source.Length);
        }
    }

    /// <summary>close(fd). Bound memslots stay; the file lives on while a mapping of it exists.</summary>
    public void Dispose()
    {
        lock (_owner.SyncRoot)
        {
            if (!_fdOpen)
            {
                return;
            }

            _fdOpen = false;
            ReleaseIfUnreferenced();
        }
    }

    public override string ToString() => $"guest_memfd(ino {Inode}, size 0x{Size:x}, flags {Flags})";

    internal void AddMapping() => _mappings++;

    internal void DropMapping()
    {
        _mappings--;
        ReleaseIfUnreferenced();
    }

    internal void Bind(Memslot slot) => _bindings.Add(slot);

    internal void Unbind(Memslot slot) => _bindings.Remove(slot);

    /// <summary>kvm_gmem_bind's xa_find: some binding of this file covers a page of [start, end).</summary>
    internal bool HasBindingIn(ulong start, ulong end)
    {
        foreach (var b in _bindings)
        {
            if (b.GuestMemfdOffset < end && start < b.GuestMemfdOffset + b.Size)
            {
                return true;
            }
        }

        return false;
    }

    internal bool IsAllocated(ulong offset) => _allocated.Get(offset);

    internal void MarkAllocated(ulong offset, ulong length)
    {
        if (length != 0)
        {
            var start = KvmLimits.PageOf(offset);
            var end = Math.Min(KvmLimits.PageOf(offset + length - 1) + KvmLimits.PageSize, Size);
            _allocated.Set(start, end, true);
        }
    }

    /// <summary>
    /// Whether the host may touch the page at <paramref name="offset"/> through an mmap: only files created
    /// INIT_SHARED hold shared pages (MM-6), and a page whose gfn is private in a binding is private (where the
    /// kernel would SIGBUS). INIT_SHARED exists only on VMs without private memory, so the second rule is moot
    /// today; it is kept so that the rule stays right if that changes.
    /// </summary>
    internal bool IsHostAccessible(ulong offset)
    {
        if ((Flags & GuestMemfdFlags.InitShared) == 0)
        {
            return false;
        }

        foreach (var b in _bindings)
        {
            if (offset >= b.GuestMemfdOffset && offset - b.GuestMemfdOffset < b.Size
                && _owner.Attributes.IsPrivate(b.Gpa + (offset - b.GuestMemfdOffset)))
            {
                return false;
            }
        }

        return true;
    }

    // kvm_gmem_punch_hole: zap every binding's guest mappings of the range, then free the pages.
    internal void PunchLocked(ulong start, ulong end)
    {
        foreach (var b in _bindings)
        {
            var lo = Math.Max(start, b.GuestMemfdOffset);
            var hi = Math.Min(end, b.GuestMemfdOffset + b.Size);
            if (lo < hi)
            {
                _owner.MmuOf(b).Zap(b.Gpa + (lo - b.GuestMemfdOffset), b.Gpa + (hi - b.GuestMemfdOffset));
            }
        }

        Store.Zero(start, end - start);
        _allocated.Set(start, end, false);
    }

    private void CheckHostAccess(ulong offset, ulong length)
    {
        if (!_fdOpen)
        {
            throw Fail.Closed("mmap", "the guest_memfd");
        }

        if (!HasMmap)
        {
            throw Fail.With(Errno.ENODEV, "mmap", "guest_memfd was created without GUEST_MEMFD_FLAG_MMAP", "flags");
        }

        if (length == 0)
        {
            return;
        }

        if (offset >= Size || length > Size - offset)
        {
            throw Fail.With(Errno.EFAULT, "mmap", $"access at or after the end of the file (0x{Size:x}): SIGBUS", "offset");
        }

        for (var page = KvmLimits.PageOf(offset); page < offset + length; page += KvmLimits.PageSize)
        {
            if (!IsHostAccessible(page))
            {
                throw Fail.With(Errno.EFAULT, "mmap", $"page 0x{page:x} is private: SIGBUS", "offset");
            }
        }
    }

    private void ReleaseIfUnreferenced()
    {
        if (_fdOpen || _mappings > 0)
        {
            return;
        }

        // kvm_gmem_release: null every binding and zap what the guest had mapped from this file.
        foreach (var b in _bindings)
        {
            b.GuestMemfd = null;
            _owner.MmuOf(b).Zap(b.Gpa, b.End);
        }

        _bindings.Clear();
        Store.Clear();
        _allocated.Set(0, ulong.MaxValue, false);
    }
}
