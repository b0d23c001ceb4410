using MemSvc.Hypervisor.Memory;

namespace MemSvc.Hypervisor.Kvm;

/// <summary>
/// A VM of the kvm backend. Every method is one or two ioctls plus the bookkeeping KVM leaves to userspace: the
/// shared sides MemSvc allocates for memslots, the attributes it set (KVM has no "get"), the boot memslot that
/// guest programs run from. One lock serializes them, as slots_lock does in the kernel.
/// </summary>
public sealed partial class KvmVm : IVm
{
    private readonly Lock _lock = new();
    private readonly VmFd _fd;
    private readonly VcpuConstants _vcpuConstants;
    private readonly Dictionary<uint, Memslot> _slots = [];
    private readonly RangeMap<MemoryAttributes> _attributes = new(MemoryAttributes.None);
    private readonly List<KvmVcpu> _vcpus = [];
    private BootMemory? _boot;
    private ulong _exitHypercallMask;
    private bool _disposed;
    private readonly bool _userMemory2;

    internal KvmVm(VmFd fd, VmType type, HypervisorCapabilities host, VcpuConstants vcpuConstants)
    {
        _fd = fd;
        _vcpuConstants = vcpuConstants;
        _userMemory2 = host.UserMemory2;
        Type = type;
        BootSlot = (uint)(host.MaxMemslots - 1);
        try
        {
            Capabilities = new VmCapabilities
            {
                GuestMemfdFlags = (GuestMemfdFlags)(ulong)fd.CheckExtension(KvmCaps.GuestMemfdFlags),
                MemoryAttributes = (MemoryAttributes)(ulong)fd.CheckExtension(KvmCaps.MemoryAttributes),
                MemoryAttributesIoctl = host.MemoryAttributes != MemoryAttributes.None,
                ExitHypercallMask = (ulong)fd.CheckExtension(KvmCaps.ExitHypercall),
                ReservedRanges = [BootLayout.Range],
            };
        }
        catch
        {
            fd.Dispose();
            throw;
        }
    }

    public VmType Type { get; }

    public VmCapabilities Capabilities { get; }

    /// <summary>The memslot id of the boot memory: the last one the kernel allows.</summary>
    public uint BootSlot { get; }

    internal VmFd Fd => _fd;

    /// <summary>Whether guest MapGpaRange requests exit to the host (KVM_CAP_EXIT_HYPERCALL bit 12 enabled).</summary>
    internal bool MapGpaRangeExits
    {
        get
        {
            lock (_lock)
            {
                return (_exitHypercallMask & (1UL << (int)KvmExitReason.HcMapGpaRange)) != 0;
            }
        }
    }

    public IGuestMemfd CreateGuestMemfd(ulong size, GuestMemfdFlags flags)
    {
        lock (_lock)
        {
            ThrowIfDisposed();
            var request = new KvmCreateGuestMemfd { Size = size, Flags = (ulong)flags };
            var fd = _fd.CreateGuestMemfd(ref request);
            try
            {
                return new KvmGuestMemfd(fd, size, flags);
            }
            catch
            {
                fd.Dispose();
                throw;
            }
        }
    }

    public void SetMemoryAttributes(ulong address, ulong size, MemoryAttributes attributes, ulong flags = 0)
    {
        lock (_lock)
        {
            ThrowIfDisposed();
            var request = new KvmMemoryAttributes { Address = address, Size = size, Attributes = (ulong)attributes, Flags = flags };
            try
            {
                _fd.SetMemoryAttributes(ref request);
            }
            catch (HypervisorException e) when (e.Errno == Errno.ENOTTY)
            {
                throw new HypervisorException(
                    Errno.ENOTTY,
                    "KVM_SET_MEMORY_ATTRIBUTES",
                    "this kernel has no KVM_SET_MEMORY_ATTRIBUTES (KVM_CAP_MEMORY_ATTRIBUTES is 0): private memory needs a host kernel " +
                    "with CONFIG_KVM_SW_PROTECTED_VM, AMD SEV-SNP or Intel TDX host support, and a VM type with private memory " +
                    "(sw-protected, snp, tdx); the simulated backend models it everywhere");
            }

            _attributes.Set(address, address + size, attributes);
        }
    }

    public IReadOnlyList<AttributeRange> GetMemoryAttributes(ulong address, ulong size)
    {
        lock (_lock)
        {
            ThrowIfDisposed();
            if (address + size < address)
            {
                throw new HypervisorException(Errno.EINVAL, "GetMemoryAttributes", "address + size overflows 2^64", "size");
            }

            return [.. _attributes.Runs(address, address + size).Select(r => new AttributeRange(r.Start, r.End - r.Start, r.Value))];
        }
    }

    public void EnableExitHypercall(ulong mask)
    {
        lock (_lock)
        {
            ThrowIfDisposed();
            var request = KvmEnableCap.Create(KvmCaps.ExitHypercall, mask);
            _fd.EnableCap(ref request);
            _exitHypercallMask = mask;
        }
    }

    public IVcpu CreateVcpu(int index)
    {
        lock (_lock)
        {
            ThrowIfDisposed();
            if (_vcpus.Count >= BootLayout.VcpuCapacity)
            {
                throw new HypervisorException(Errno.ENOSPC, "KVM_CREATE_VCPU", $"the kvm backend's boot memory has room for {BootLayout.VcpuCapacity} vCPUs per VM");
            }

            var boot = EnsureBootMemory();
            var vcpu = new KvmVcpu(this, _fd.CreateVcpu(index), index, _vcpus.Count, boot, _vcpuConstants);
            _vcpus.Add(vcpu);
            return vcpu;
        }
    }

    public void Dispose()
    {
        List<KvmVcpu> vcpus;
        lock (_lock)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            vcpus = [.. _vcpus];
        }

        // vCPUs first (they stop running and unmap kvm_run), then the VM fd, and only then the memory the kernel
        // was told about.
        foreach (var vcpu in vcpus)
        {
            vcpu.Dispose();
        }

        lock (_lock)
        {
            _fd.Dispose();
            foreach (var slot in _slots.Values)
            {
                slot.Shared.Dispose();
            }

            _slots.Clear();
            _boot?.Dispose();
        }
    }

    private BootMemory EnsureBootMemory()
    {
        if (_boot is not null)
        {
            return _boot;
        }

        if (_slots.ContainsKey(BootSlot))
        {
            throw new HypervisorException(Errno.EEXIST, "KVM_CREATE_VCPU", $"memslot {BootSlot} is reserved for the kvm backend's boot memory, but it is in use");
        }

        var boot = new BootMemory();
        InstallBootMemory(boot);
        return boot;
    }

    // Under the lock: the boot memslot over boot (disposed when it cannot be created), and the VM keeps it.
    private void InstallBootMemory(BootMemory boot)
    {
        var region = new KvmUserspaceMemoryRegion2
        {
            Slot = BootSlot,
            GuestPhysAddr = BootLayout.Base,
            MemorySize = BootLayout.Size,
            UserspaceAddr = (ulong)boot.Address,
        };
        try
        {
            SetRegion(ref region);
        }
        catch (HypervisorException e)
        {
            boot.Dispose();
            throw new HypervisorException(e.Errno, e.Operation, $"the boot memslot {BootSlot} at {BootLayout.Range} (reserved by the kvm backend) could not be created: {e.Reason}");
        }

        _boot = boot;
    }

    private void ThrowIfDisposed()
    {
        if (_disposed)
        {
            throw new HypervisorException(Errno.EBADF, "VM", "the VM is disposed (its fd is closed)");
        }
    }

    /// <summary>A memslot as userspace asked for it, with the shared side MemSvc made for it.</summary>
    private sealed record Memslot(MemoryRegion Region, SharedSide Shared);
}
