using static MemSvc.Hypervisor.Tests.Conformance.ErrnoFixture;

namespace MemSvc.Hypervisor.Tests.Conformance;

/// <summary>
/// results.txt's errno_table rows for a default VM, as inputs through the abstraction (a row whose answer differs
/// between real kernels takes it from the host's <see cref="HostShape"/>): the one table of every row
/// the abstraction can express, run on every backend (SimulatedErrnoTable, KvmErrnoTable). Rows only the raw ioctl
/// layer can express (reserved[] and pad fields, the v1 ioctl, ioctls on the wrong fd, fds that are not
/// guest_memfds: memfd, /dev/null, eventfd, the VM fd, the closed fd number 1000) are kvm-only by nature and live in
/// Kvm/RawIoctlErrnoRows.cs. Where the abstraction has an analogue (a foreign IGuestMemfd for "not a guest_memfd", a
/// closed IGuestMemfd for "closed fd number (1000)", REGION2 for the v1 delete/modify rows) the row is here too,
/// under the same name. ErrnoTableCoverage checks that every results.txt row is in one of the two.
/// </summary>
public static class ErrnoTableRows
{
    private const ulong K4 = 4096;
    private const string SlotStall = "the kernel stalls for 26 s allocating the metadata of a 2^31-1-page (8 TiB) memslot (probe README)";
    private static readonly SharedBacking Anon = SharedBacking.Anonymous;
    private static readonly SharedBacking NoUa = SharedBacking.None;

    public static ErrnoRowTable Gmem { get; } = new()
    {
        ["size=0"] = new(f => f.Vm.CreateGuestMemfd(0, 0).Dispose(), Errno.EINVAL),
        ["size=4095 (unaligned)"] = new(f => f.Vm.CreateGuestMemfd(4095, 0).Dispose(), Errno.EINVAL),
        ["size=4097 (unaligned)"] = new(f => f.Vm.CreateGuestMemfd(4097, 0).Dispose(), Errno.EINVAL),
        ["size=4096 (minimum)"] = new(f => f.Vm.CreateGuestMemfd(4096, 0).Dispose(), null),
        ["size=-4096 (0xfffffffffffff000, negative loff_t)"] = new(f => f.Vm.CreateGuestMemfd(unchecked((ulong)-4096L), 0).Dispose(), Errno.EINVAL),
        ["size=1<<63"] = new(f => f.Vm.CreateGuestMemfd(1UL << 63, 0).Dispose(), Errno.EINVAL),
        ["size=1 TiB (1<<40)"] = new(f => f.Vm.CreateGuestMemfd(1UL << 40, 0).Dispose(), null),
        ["size=1<<50"] = new(f => f.Vm.CreateGuestMemfd(1UL << 50, 0).Dispose(), null),
        ["size=1<<62"] = new(f => f.Vm.CreateGuestMemfd(1UL << 62, 0).Dispose(), null),
        ["size=(1<<63)-4096 (max page-aligned loff_t)"] = new(f => f.Vm.CreateGuestMemfd((1UL << 63) - 4096, 0).Dispose(), null),
        ["flags=1<<2 (unknown)"] = new(f => f.Vm.CreateGuestMemfd(2 * M, (GuestMemfdFlags)(1UL << 2)).Dispose(), Errno.EINVAL),
        ["flags=1<<63 (unknown)"] = new(f => f.Vm.CreateGuestMemfd(2 * M, (GuestMemfdFlags)(1UL << 63)).Dispose(), Errno.EINVAL),
        ["flags=INIT_SHARED only (no MMAP)"] = new(f => f.Vm.CreateGuestMemfd(2 * M, GuestMemfdFlags.InitShared).Dispose(), null),
        ["flags=MMAP|INIT_SHARED|1<<2"] = new(f => f.Vm.CreateGuestMemfd(2 * M, (GuestMemfdFlags)7).Dispose(), Errno.EINVAL),
        ["size=0 + unknown flag (which check first)"] = new(f => f.Vm.CreateGuestMemfd(0, (GuestMemfdFlags)(1UL << 2)).Dispose(), Errno.EINVAL),
    };

    public static ErrnoRowTable Region2 { get; } = new()
    {
        ["baseline new slot1 gpa=8M size=2M off=2M"] = new(f => f.R2(1, Gmf, 8 * M, 2 * M, Anon, f.G, 2 * M), null),
        ["gpa unaligned (8M+0x800)"] = new(f => f.R2(1, Gmf, (8 * M) + 0x800, M, Anon, f.G, 2 * M), Errno.EINVAL),
        ["size unaligned (1M+0x800)"] = new(f => f.R2(1, Gmf, 8 * M, M + 0x800, Anon, f.G, 2 * M), Errno.EINVAL),
        ["size unaligned, no GUEST_MEMFD flag"] = new(f => f.R2(1, 0, 8 * M, M + 0x800, Anon, null, 0), Errno.EINVAL),
        ["gmem offset unaligned (2M+0x800)"] = new(f => f.R2(1, Gmf, 8 * M, M, Anon, f.G, (2 * M) + 0x800), Errno.EINVAL),
        ["offset+size > gmem size (off=3M size=2M, gmem=4M)"] = new(f => f.R2(1, Gmf, 8 * M, 2 * M, Anon, f.G, 3 * M), Errno.EINVAL),
        ["offset == gmem size (off=4M size=4K)"] = new(f => f.R2(1, Gmf, 8 * M, K4, Anon, f.G, 4 * M), Errno.EINVAL),
        ["offset > gmem size (off=8M size=4K)"] = new(f => f.R2(1, Gmf, 8 * M, K4, Anon, f.G, 8 * M), Errno.EINVAL),
        ["offset+size wraps u64 (off=2^64-4K size=8K)"] = new(f => f.R2(1, Gmf, 8 * M, 8192, Anon, f.G, unchecked((ulong)-4096L)), Errno.EINVAL),
        ["size > gmem size (size=8M off=0)"] = new(f => f.R2(1, Gmf, 8 * M, 8 * M, Anon, f.G, 0), Errno.EINVAL),
        ["gpa overlaps slot0 partially (gpa=1M size=2M off=2M)"] = new(f => f.R2(1, Gmf, M, 2 * M, Anon, f.G, 2 * M), Errno.EEXIST),
        ["gpa identical to slot0, other slot id, other gmem range"] = new(f => f.R2(1, Gmf, 0, 2 * M, Anon, f.G, 2 * M), Errno.EEXIST),
        ["gpa overlaps a plain (non-gmem) slot"] = new(
            f =>
            {
                f.R2(2, 0, 16 * M, 2 * M, Anon, null, 0);
                f.R2(1, Gmf, 16 * M, 2 * M, Anon, f.G, 2 * M);
            },
            Errno.EEXIST),
        ["same gmem range as slot0 (gpa=8M off=0 size=2M)"] = ErrnoRow.On(f => f.R2(1, Gmf, 8 * M, 2 * M, Anon, f.G, 0), h => h.GmemRangeOverlap),
        ["gmem range partially overlapping slot0 (off=1M size=2M)"] = ErrnoRow.On(f => f.R2(1, Gmf, 8 * M, 2 * M, Anon, f.G, M), h => h.GmemRangeOverlap),
        ["gmem range adjacent to slot0 (off=2M size=2M)"] = new(f => f.R2(1, Gmf, 8 * M, 2 * M, Anon, f.G, 2 * M), null),
        ["gmem fd created by another VM"] = new(f => f.R2(1, Gmf, 8 * M, 2 * M, Anon, f.OtherVmsGuestMemfd(), 0), Errno.EINVAL),
        ["non-gmem fd: memfd"] = new(f => f.R2(1, Gmf, 8 * M, 2 * M, Anon, new NotAGuestMemfd(), 0), Errno.EINVAL),
        ["non-gmem fd: /dev/null"] = new(f => f.R2(1, Gmf, 8 * M, 2 * M, Anon, new NotAGuestMemfd(), 0), Errno.EINVAL),
        ["non-gmem fd: eventfd"] = new(f => f.R2(1, Gmf, 8 * M, 2 * M, Anon, new NotAGuestMemfd(), 0), Errno.EINVAL),
        ["non-gmem fd: the VM fd itself"] = new(f => f.R2(1, Gmf, 8 * M, 2 * M, Anon, new NotAGuestMemfd(), 0), Errno.EINVAL),
        ["guest_memfd = closed fd number (1000)"] = new(f => f.R2(1, Gmf, 8 * M, 2 * M, Anon, f.ClosedFd(), 0), Errno.EBADF),
        ["guest_memfd = -1 (0xffffffff)"] = new(f => f.R2(1, Gmf, 8 * M, 2 * M, Anon, null, 0), Errno.EBADF),
        ["flags=GUEST_MEMFD|READONLY"] = new(f => f.R2(1, Gmf | MemoryRegionFlags.ReadOnly, 8 * M, 2 * M, Anon, f.G, 2 * M), Errno.EINVAL),
        ["flags=READONLY (plain slot, control)"] = new(f => f.R2(1, MemoryRegionFlags.ReadOnly, 8 * M, 2 * M, Anon, null, 0), null),
        ["flags=GUEST_MEMFD|LOG_DIRTY_PAGES"] = new(f => f.R2(1, Gmf | MemoryRegionFlags.LogDirtyPages, 8 * M, 2 * M, Anon, f.G, 2 * M), Errno.EINVAL),
        ["flags=GUEST_MEMFD|1<<3 (unknown)"] = new(f => f.R2(1, Gmf | (MemoryRegionFlags)(1U << 3), 8 * M, 2 * M, Anon, f.G, 2 * M), Errno.EINVAL),
        ["flags=1<<16 (unknown, kernel-internal range)"] = new(f => f.R2(1, (MemoryRegionFlags)(1U << 16), 8 * M, 2 * M, Anon, null, 0), Errno.EINVAL),
        ["slot id 32763 (max valid = NR_MEMSLOTS-1)"] = new(f => f.R2(32763, Gmf, 8 * M, 2 * M, Anon, f.G, 2 * M), null),
        ["slot id 32764 (== NR_MEMSLOTS)"] = new(f => f.R2(32764, Gmf, 8 * M, 2 * M, Anon, f.G, 2 * M), Errno.EINVAL),
        ["address space 1 (slot = 1<<16 | 1)"] = ErrnoRow.On(f => f.R2((1U << 16) | 1, Gmf, 8 * M, 2 * M, Anon, f.G, 2 * M), h => h.AddressSpaces > 1 ? null : Errno.EINVAL),
        ["userspace_addr unaligned (UA+1)"] = new(f => f.R2(1, Gmf, 8 * M, 2 * M, SharedBacking.At(Ua + 1), f.G, 2 * M), Errno.EINVAL),
        ["userspace_addr = 0"] = new(f => f.R2(1, Gmf, 8 * M, 2 * M, NoUa, f.G, 2 * M), null),
        ["userspace_addr = kernel addr 0xffff888000000000"] = new(f => f.R2(1, Gmf, 8 * M, 2 * M, SharedBacking.At(0xffff888000000000), f.G, 2 * M), Errno.EINVAL),
        ["userspace_addr non-canonical 0x0000800000000000"] = new(f => f.R2(1, Gmf, 8 * M, 2 * M, SharedBacking.At(0x0000800000000000), f.G, 2 * M), Errno.EINVAL),
        ["userspace_addr unmapped (valid user VA, nothing mapped)"] = new(f => f.R2(1, Gmf, 8 * M, 2 * M, SharedBacking.At(0x100000000000), f.G, 2 * M), null),
        ["gpa+size wraps (gpa=2^64-1M size=2M)"] = new(f => f.R2(1, Gmf, unchecked(0UL - M), 2 * M, Anon, f.G, 2 * M), Errno.EINVAL),
        ["gpa at 1<<48 (== MAXPHYADDR 48)"] = ErrnoRow.On(f => f.R2(1, Gmf, 1UL << 48, 2 * M, Anon, f.G, 2 * M), h => h.SlotEnd(1UL << 48, 2 * M)),
        ["gpa at (1<<48)-2M (last 2M below MAXPHYADDR)"] = ErrnoRow.On(f => f.R2(1, Gmf, (1UL << 48) - (2 * M), 2 * M, Anon, f.G, 2 * M), h => h.SlotEnd((1UL << 48) - (2 * M), 2 * M)),
        ["gpa at 1<<52"] = new(f => f.R2(1, Gmf, 1UL << 52, 2 * M, Anon, f.G, 2 * M), Errno.EINVAL),
        ["gpa=(1<<52)-2M size=2M (ends exactly at 2^52)"] = ErrnoRow.On(f => f.R2(1, Gmf, (1UL << 52) - (2 * M), 2 * M, Anon, f.Big(), 0), h => h.SlotEnd((1UL << 52) - (2 * M), 2 * M)),
        ["gpa=(1<<52)-2M size=4M (crosses 2^52)"] = new(f => f.R2(2, Gmf, (1UL << 52) - (2 * M), 4 * M, Anon, f.Big(), 4 * M), Errno.EINVAL),
        ["gpa=1<<52 size=2M (starts at 2^52)"] = new(f => f.R2(2, Gmf, 1UL << 52, 2 * M, Anon, f.Big(), 4 * M), Errno.EINVAL),
        ["size = 2^31 pages (8 TiB)"] = new(f => f.R2(3, Gmf, 1UL << 44, 1UL << 43, SharedBacking.At(Ua2), f.Big(), 1UL << 44), Errno.EINVAL),
        ["size = 2^31-1 pages"] = new(f => f.R2(4, Gmf, 1UL << 45, (1UL << 43) - K4, SharedBacking.At(Ua2), f.Big(), 1UL << 45), null, NotOnRealKvmBecause: SlotStall),
        ["userspace_addr+size beyond TASK_SIZE (UA+8TiB)"] = new(f => f.R2(5, Gmf, 1UL << 46, 1UL << 42, SharedBacking.At(Ua), f.Big(), 1UL << 46), Errno.EINVAL),
        ["modify slot0: identical args"] = new(f => f.R2(0, Gmf, 0, 2 * M, Anon, f.G, 0), Errno.EINVAL),
        ["modify slot0: add LOG_DIRTY_PAGES"] = new(f => f.R2(0, Gmf | MemoryRegionFlags.LogDirtyPages, 0, 2 * M, Anon, f.G, 0), Errno.EINVAL),
        ["modify slot0: move gpa to 16M"] = new(f => f.R2(0, Gmf, 16 * M, 2 * M, Anon, f.G, 0), Errno.EINVAL),
        ["modify slot0: drop GUEST_MEMFD flag (same ua/size)"] = new(f => f.R2(0, 0, 0, 2 * M, Anon, null, 0), Errno.EINVAL),
        ["modify plain slot3: add GUEST_MEMFD flag"] = new(
            f =>
            {
                f.R2(3, 0, 32 * M, 2 * M, Anon, null, 0);
                f.R2(3, Gmf, 32 * M, 2 * M, Anon, f.G, 2 * M);
            },
            Errno.EINVAL),
        ["delete slot0 (size=0, flags=0, fd=0)"] = new(f => f.R2(0, 0, 0, 0, NoUa, null, 0), null),
        ["delete slot0 (size=0, flags=GUEST_MEMFD, fd=1000)"] = new(f => f.R2(0, Gmf, 0, 0, NoUa, f.ClosedFd(), 0), null),
        ["delete slot0 (size=0, flags=READONLY|1<<3)"] = new(f => f.R2(0, MemoryRegionFlags.ReadOnly | (MemoryRegionFlags)(1U << 3), 0, 0, NoUa, null, 0), Errno.EINVAL),
        ["delete slot0 (size=0, gpa=unaligned garbage)"] = new(f => f.R2(0, 0, 0x123, 0, NoUa, null, 0), Errno.EINVAL),
        ["delete never-created slot 9 (size=0)"] = new(f => f.R2(9, 0, 0, 0, NoUa, null, 0), Errno.EINVAL),
        ["rebind after delete: same gmem range"] = new(
            f =>
            {
                f.R2(0, 0, 0, 0, NoUa, null, 0);
                f.R2(0, Gmf, 0, 2 * M, Anon, f.G, 0);
            },
            null),
    };

    /// <summary>
    /// region(v1) rows, issued as REGION2 with the same fields (the abstraction has no v1 ioctl; the real v1 calls
    /// are in Kvm/RawIoctlErrnoRows.cs).
    /// </summary>
    public static ErrnoRowTable RegionV1 { get; } = new()
    {
        ["v1 delete of gmem slot0"] = new(f => f.R2(0, 0, 0, 0, NoUa, null, 0), null),
        ["v1 modify of gmem slot0 (same gpa/size/ua)"] = new(f => f.R2(0, 0, 0, 2 * M, Anon, null, 0), Errno.EINVAL),
    };

    public static ErrnoRowTable Order { get; } = new()
    {
        ["bad fd(1000) + unaligned gpa"] = new(f => f.R2(1, Gmf, (8 * M) + 1, 2 * M, Anon, f.ClosedFd(), 0), Errno.EINVAL),
        ["bad fd(1000) + gpa overlapping slot0"] = new(f => f.R2(1, Gmf, 0, 2 * M, Anon, f.ClosedFd(), 2 * M), Errno.EEXIST),
        ["non-gmem fd(memfd) + gpa overlapping slot0"] = new(f => f.R2(1, Gmf, 0, 2 * M, Anon, new NotAGuestMemfd(), 2 * M), Errno.EEXIST),
        ["same gmem range as slot0 + gpa overlapping slot0"] = new(f => f.R2(1, Gmf, M, 2 * M, Anon, f.G, 0), Errno.EEXIST),
        ["offset past gmem end + gpa overlapping slot0"] = new(f => f.R2(1, Gmf, M, 2 * M, Anon, f.G, 8 * M), Errno.EEXIST),
        ["READONLY + bad fd(1000)"] = new(f => f.R2(1, Gmf | MemoryRegionFlags.ReadOnly, 8 * M, 2 * M, Anon, f.ClosedFd(), 0), Errno.EINVAL),
        ["slot id 32764 + bad fd(1000)"] = new(f => f.R2(32764, Gmf, 8 * M, 2 * M, Anon, f.ClosedFd(), 0), Errno.EINVAL),
        ["unaligned userspace_addr + bad fd(1000)"] = new(f => f.R2(1, Gmf, 8 * M, 2 * M, SharedBacking.At(Ua + 1), f.ClosedFd(), 0), Errno.EINVAL),
        ["modify slot0 (gmem) with bad fd(1000)"] = new(f => f.R2(0, Gmf, 0, 2 * M, Anon, f.ClosedFd(), 0), Errno.EINVAL),
    };

    private const FallocateMode Ph = FallocateMode.PunchHole | FallocateMode.KeepSize;
    private const FallocateMode Ks = FallocateMode.KeepSize;
    private const long LM = 1L << 20;

    public static ErrnoRowTable Fallocate { get; } = new()
    {
        ["PUNCH|KEEP off=100 len=4096 (unaligned off)"] = new(f => f.G.Fallocate(Ph, 100, 4096), Errno.EINVAL),
        ["PUNCH|KEEP off=0 len=100 (unaligned len)"] = new(f => f.G.Fallocate(Ph, 0, 100), Errno.EINVAL),
        ["KEEP off=4096 len=4095 (unaligned len)"] = new(f => f.G.Fallocate(Ks, 4096, 4095), Errno.EINVAL),
        ["KEEP off=0 len=4M (whole file)"] = new(f => f.G.Fallocate(Ks, 0, 4 * LM), null),
        ["KEEP off=0 len=8M (past size)"] = new(f => f.G.Fallocate(Ks, 0, 8 * LM), Errno.EINVAL),
        ["KEEP off=4M len=4096 (starts at size)"] = new(f => f.G.Fallocate(Ks, 4 * LM, 4096), Errno.EINVAL),
        ["KEEP off=8M len=4096 (beyond size)"] = new(f => f.G.Fallocate(Ks, 8 * LM, 4096), Errno.EINVAL),
        ["PUNCH|KEEP off=4M-4K len=8K (crosses end)"] = new(f => f.G.Fallocate(Ph, (4 * LM) - 4096, 8192), null),
        ["PUNCH|KEEP off=8M len=4K (beyond size)"] = new(f => f.G.Fallocate(Ph, 8 * LM, 4096), null),
        ["PUNCH|KEEP off=0 len=4M (whole file, slot0 bound)"] = new(f => f.G.Fallocate(Ph, 0, 4 * LM), null),
        ["PUNCH|KEEP len=0"] = new(f => f.G.Fallocate(Ph, 0, 0), Errno.EINVAL),
        ["KEEP off=-4096"] = new(f => f.G.Fallocate(Ks, -4096, 4096), Errno.EINVAL),
        ["KEEP off=LLONG_MAX-4095 len=8192 (overflow)"] = new(f => f.G.Fallocate(Ks, long.MaxValue - 4095, 8192), Errno.EFBIG),
        ["mode=0 (plain) in range"] = new(f => f.G.Fallocate(FallocateMode.Default, 0, 4096), Errno.EOPNOTSUPP),
        ["mode=0 (plain) unaligned"] = new(f => f.G.Fallocate(FallocateMode.Default, 1, 100), Errno.EOPNOTSUPP),
        ["mode=0 (plain) beyond size"] = new(f => f.G.Fallocate(FallocateMode.Default, 8 * LM, 4096), Errno.EOPNOTSUPP),
        ["PUNCH_HOLE without KEEP_SIZE"] = new(f => f.G.Fallocate(FallocateMode.PunchHole, 0, 4096), Errno.EOPNOTSUPP),
        ["ZERO_RANGE|KEEP_SIZE"] = new(f => f.G.Fallocate(FallocateMode.ZeroRange | Ks, 0, 4096), Errno.EOPNOTSUPP),
        ["KEEP|1<<7 (FALLOC_FL_UNSHARE_RANGE=0x40? use 0x80)"] = new(f => f.G.Fallocate(Ks | (FallocateMode)0x80, 0, 4096), Errno.EOPNOTSUPP),
        ["PUNCH|KEEP unaligned off AND beyond size"] = new(f => f.G.Fallocate(Ph, (8 * LM) + 1, 4096), Errno.EINVAL),
    };

    public static ErrnoRowTable Attrs { get; } = new()
    {
        ["PRIVATE on gpa 0 size 4K"] = ErrnoRow.On(f => f.Vm.SetMemoryAttributes(0, K4, MemoryAttributes.Private), h => h.SetAttributes(MemoryAttributes.Private)),
        ["attrs=0 (shared)"] = ErrnoRow.On(f => f.Vm.SetMemoryAttributes(0, K4, MemoryAttributes.None), h => h.SetAttributes(MemoryAttributes.None)),
        ["unaligned, flags=1 (garbage)"] = ErrnoRow.On(f => f.Vm.SetMemoryAttributes(1, 1, (MemoryAttributes)1, 1), h => h.MemoryAttributesIoctl ? Errno.EINVAL : Errno.ENOTTY),
    };

    /// <summary>
    /// Plain memslots only (slot 0 = [0, 2 MiB) of anonymous memory, no guest_memfd): KVM's memslot rules as every host
    /// has them, guest_memfd or not (kvm_set_memory_region; SEMANTICS MS-1..MS-14). Not results.txt rows.
    /// </summary>
    public static ErrnoRowTable Plain { get; } = new()
    {
        ["new slot1 gpa=8M size=2M"] = new(f => f.R2(1, 0, 8 * M, 2 * M, Anon, null, 0), null),
        ["gpa unaligned (8M+0x800)"] = new(f => f.R2(1, 0, (8 * M) + 0x800, M, Anon, null, 0), Errno.EINVAL),
        ["size unaligned (1M+0x800)"] = new(f => f.R2(1, 0, 8 * M, M + 0x800, Anon, null, 0), Errno.EINVAL),
        ["gpa overlaps slot0 partially (gpa=1M size=2M)"] = new(f => f.R2(1, 0, M, 2 * M, Anon, null, 0), Errno.EEXIST),
        ["flags=READONLY"] = new(f => f.R2(1, MemoryRegionFlags.ReadOnly, 8 * M, 2 * M, Anon, null, 0), null),
        ["flags=1<<16 (unknown)"] = new(f => f.R2(1, (MemoryRegionFlags)(1U << 16), 8 * M, 2 * M, Anon, null, 0), Errno.EINVAL),
        ["slot id == NR_MEMSLOTS"] = new(f => f.R2((uint)f.Hypervisor.Capabilities.MaxMemslots, 0, 8 * M, 2 * M, Anon, null, 0), Errno.EINVAL),
        ["address space 1 (slot = 1<<16 | 1)"] = ErrnoRow.On(f => f.R2((1U << 16) | 1, 0, 8 * M, 2 * M, Anon, null, 0), h => h.AddressSpaces > 1 ? null : Errno.EINVAL),
        ["userspace_addr unaligned (UA+1)"] = new(f => f.R2(1, 0, 8 * M, 2 * M, SharedBacking.At(Ua + 1), null, 0), Errno.EINVAL),
        ["userspace_addr = kernel addr 0xffff888000000000"] = new(f => f.R2(1, 0, 8 * M, 2 * M, SharedBacking.At(0xffff888000000000), null, 0), Errno.EINVAL),
        ["gpa+size wraps (gpa=2^64-1M size=2M)"] = new(f => f.R2(1, 0, unchecked(0UL - M), 2 * M, Anon, null, 0), Errno.EINVAL),
        ["gpa at 1<<52"] = new(f => f.R2(1, 0, 1UL << 52, 2 * M, SharedBacking.At(Ua), null, 0), Errno.EINVAL),
        ["gpa=(1<<52)-2M size=2M (ends exactly at 2^52)"] = ErrnoRow.On(f => f.R2(1, 0, (1UL << 52) - (2 * M), 2 * M, SharedBacking.At(Ua), null, 0), h => h.SlotEnd((1UL << 52) - (2 * M), 2 * M)),
        ["delete slot0"] = new(f => f.R2(0, 0, 0, 0, NoUa, null, 0), null),
        ["delete never-created slot 9"] = new(f => f.R2(9, 0, 0, 0, NoUa, null, 0), Errno.EINVAL),
    };
}
