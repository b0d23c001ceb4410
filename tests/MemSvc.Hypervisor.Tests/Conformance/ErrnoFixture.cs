namespace MemSvc.Hypervisor.Tests.Conformance;

/// <summary>
/// The fixture of kvm/probe/errno_table.c, rebuilt for every row: a default VM, a 4 MiB guest_memfd G (flags 0)
/// and slot 0 = [gpa 0, 2 MiB) → G[0, 2 MiB) with an anonymous shared side. Without guest_memfd (for the plain
/// rows and hosts that lack it) slot 0 is the same range, anonymous memory only, and there is no G.
/// </summary>
public sealed class ErrnoFixture : IDisposable
{
    public const ulong M = 1UL << 20;
    public const MemoryRegionFlags Gmf = MemoryRegionFlags.GuestMemfd;

    /// <summary>A plausible mmap address (errno_table.c's UA lives up here): valid, page aligned, user half.</summary>
    public const ulong Ua = 0x00007f0000000000;

    /// <summary>UA2 of errno_table.c: a low user address so that 8 TiB slots stay below TASK_SIZE.</summary>
    public const ulong Ua2 = 0x0000100000000000;

    private readonly List<IDisposable> _extras = [];
    private readonly IGuestMemfd? _g;

    public ErrnoFixture(IHypervisor hypervisor, bool withGuestMemfd = true)
    {
        Hypervisor = hypervisor;
        Vm = hypervisor.CreateVm(VmType.Default);
        if (withGuestMemfd)
        {
            _g = Vm.CreateGuestMemfd(4 * M, GuestMemfdFlags.None);
            Vm.SetUserMemoryRegion(new MemoryRegion(0, Gmf, 0, 2 * M, SharedBacking.Anonymous, _g, 0));
        }
        else
        {
            Vm.SetUserMemoryRegion(new MemoryRegion(0, MemoryRegionFlags.None, 0, 2 * M, SharedBacking.Anonymous));
        }
    }

    public IHypervisor Hypervisor { get; }

    public IVm Vm { get; }

    public IGuestMemfd G => _g ?? throw new InvalidOperationException("this fixture was made without a guest_memfd");

    /// <summary>A guest_memfd whose fd is closed: "closed fd number (1000)" in the probe.</summary>
    public IGuestMemfd ClosedFd()
    {
        var closed = Vm.CreateGuestMemfd(4 * M, GuestMemfdFlags.None);
        closed.Dispose();
        return closed;
    }

    /// <summary>A guest_memfd of another VM, kept alive until the fixture goes.</summary>
    public IGuestMemfd OtherVmsGuestMemfd()
    {
        var other = Hypervisor.CreateVm(VmType.Default);
        var gmem = other.CreateGuestMemfd(4 * M, GuestMemfdFlags.None);
        _extras.Add(gmem);
        _extras.Add(other);
        return gmem;
    }

    /// <summary>A guest_memfd of 2^50 bytes (sparse: nothing is allocated).</summary>
    public IGuestMemfd Big()
    {
        var big = Vm.CreateGuestMemfd(1UL << 50, GuestMemfdFlags.None);
        _extras.Add(big);
        return big;
    }

    public void R2(uint slot, MemoryRegionFlags flags, ulong gpa, ulong size, SharedBacking backing, IGuestMemfd? gmem, ulong offset) =>
        Vm.SetUserMemoryRegion(new MemoryRegion(slot, flags, gpa, size, backing, gmem, offset));

    public void Dispose()
    {
        Vm.Dispose();
        _g?.Dispose();
        foreach (var extra in _extras)
        {
            extra.Dispose();
        }
    }
}

/// <summary>
/// An fd that is not a guest_memfd (the probe's memfd, /dev/null, eventfd and VM-fd rows all collapse onto it:
/// the abstraction can only pass an IGuestMemfd, and a foreign one is what "not a guest_memfd" means here).
/// </summary>
public sealed class NotAGuestMemfd : IGuestMemfd
{
    public ulong Size => 4UL << 20;

    public GuestMemfdFlags Flags => GuestMemfdFlags.None;

    public ulong Inode => 1;

    public bool IsClosed => false;

    public void Fallocate(FallocateMode mode, long offset, long length)
    {
    }

    public void ReadMapped(ulong offset, Span<byte> destination)
    {
    }

    public void WriteMapped(ulong offset, ReadOnlySpan<byte> source)
    {
    }

    public void Dispose()
    {
    }
}
