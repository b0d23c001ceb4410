using System.Runtime.InteropServices;
using MemSvc.Hypervisor.Kvm;

namespace MemSvc.Hypervisor.Tests.Kvm;

/// <summary>
/// errno_table.c's per-row fixture on a fresh default VM, for the rows only the raw ioctl layer can express
/// (<see cref="RawIoctlErrnoRows"/>): a 4 MiB guest_memfd G (flags 0), a 4 MiB anonymous mapping UA, and
/// slot 0 = [gpa 0, 2 MiB) → G[0, 2 MiB) with UA as its userspace_addr, plus the raw fds the rows pass.
/// </summary>
internal sealed class RawIoctlErrnoFixture : IDisposable
{
    public const ulong M = 1UL << 20;
    public const MemoryRegionFlags Gmf = MemoryRegionFlags.GuestMemfd;

    private readonly MappedMemory _ua;
    private readonly List<IDisposable> _extras = [];

    public RawIoctlErrnoFixture(KvmHypervisor hypervisor)
    {
        Hypervisor = hypervisor;
        Vm = (KvmVm)hypervisor.CreateVm(VmType.Default);
        G = (KvmGuestMemfd)Vm.CreateGuestMemfd(4 * M, GuestMemfdFlags.None);
        _ua = MappedMemory.Anonymous(4 * M);
        Vm.SetUserMemoryRegion(new MemoryRegion(0, Gmf, 0, 2 * M, SharedBacking.At(Ua), G, 0));
    }

    public KvmHypervisor Hypervisor { get; }

    public KvmVm Vm { get; }

    public KvmGuestMemfd G { get; }

    public ulong Ua => (ulong)_ua.Address;

    /// <summary>KVM_SET_USER_MEMORY_REGION2 through the thin ioctl layer, every field as given.</summary>
    public void Raw2(uint slot, MemoryRegionFlags flags, ulong gpa, ulong size, ulong ua, int fd, ulong offset, uint pad1 = 0, ulong pad2First = 0)
    {
        var region = new KvmUserspaceMemoryRegion2
        {
            Slot = slot,
            Flags = (uint)flags,
            GuestPhysAddr = gpa,
            MemorySize = size,
            UserspaceAddr = ua,
            GuestMemfdOffset = offset,
            GuestMemfd = unchecked((uint)fd),
            Pad1 = pad1,
        };
        MemoryMarshal.Write(MemoryMarshal.AsBytes(MemoryMarshal.CreateSpan(ref region, 1))[48..], pad2First);
        Vm.Fd.SetUserMemoryRegion2(ref region);
    }

    /// <summary>The v1 KVM_SET_USER_MEMORY_REGION through the thin ioctl layer.</summary>
    public void Raw1(uint slot, MemoryRegionFlags flags, ulong gpa, ulong size, ulong ua)
    {
        var region = new KvmUserspaceMemoryRegion { Slot = slot, Flags = (uint)flags, GuestPhysAddr = gpa, MemorySize = size, UserspaceAddr = ua };
        Vm.Fd.SetUserMemoryRegion(ref region);
    }

    /// <summary>KVM_CREATE_GUEST_MEMFD on any fd, with reserved[index] = value when index is not negative.</summary>
    public static void GmRaw(SafeHandle target, ulong size, ulong flags, int reservedIndex = -1, ulong reservedValue = 0)
    {
        var request = new KvmCreateGuestMemfd { Size = size, Flags = flags };
        if (reservedIndex >= 0)
        {
            MemoryMarshal.Write(MemoryMarshal.AsBytes(MemoryMarshal.CreateSpan(ref request, 1))[(16 + (8 * reservedIndex))..], reservedValue);
        }

        var fd = Ioctl.Struct(target, "KVM_CREATE_GUEST_MEMFD", KvmIoctls.CreateGuestMemfd, ref request);
        new FileDescriptor(fd).Dispose();
    }

    /// <summary>A memfd of 4 MiB, closed with the fixture.</summary>
    public int Memfd()
    {
        var fd = FileDescriptor.FromResult(LibC.MemfdCreate("errno-row", LibC.MFD_CLOEXEC), "memfd_create");
        _extras.Add(fd);
        Assert.Equal(0, LibC.Ftruncate(fd, (long)(4 * M)));
        return fd.Number;
    }

    /// <summary>/dev/null opened read-write, closed with the fixture.</summary>
    public int DevNull() => Keep(FileDescriptor.Open("/dev/null", LibC.O_RDWR)).Number;

    /// <summary>An eventfd, closed with the fixture.</summary>
    public int Eventfd() => Keep(FileDescriptor.FromResult(LibC.Eventfd(0, LibC.EFD_CLOEXEC), "eventfd")).Number;

    /// <summary>The fd number 1000, which must not be open (the rows use it as "a closed fd").</summary>
    public static int ClosedFd()
    {
        Assert.SkipWhen(Directory.EnumerateFileSystemEntries("/proc/self/fd", "1000").Any(), "fd 1000 is open in this process, so it cannot stand for a closed fd");
        return 1000;
    }

    public T Keep<T>(T disposable)
        where T : IDisposable
    {
        _extras.Add(disposable);
        return disposable;
    }

    public void Dispose()
    {
        for (var i = _extras.Count - 1; i >= 0; i--)
        {
            _extras[i].Dispose();
        }

        Vm.Dispose();
        G.Dispose();
        _ua.Dispose();
        Hypervisor.Dispose();
    }
}
