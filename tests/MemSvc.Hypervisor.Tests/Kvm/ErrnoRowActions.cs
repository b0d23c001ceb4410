using static MemSvc.Hypervisor.Tests.Kvm.ErrnoFixture;

namespace MemSvc.Hypervisor.Tests.Kvm;

/// <summary>
/// How each row of <see cref="ErrnoTable"/> is asked, with the same inputs as errno_table.c: through the
/// abstraction where it can express them (R2, Gm, Fa), through the thin ioctl layer where it cannot (Raw2, Raw1,
/// GmRaw: pad fields, fds that are not guest_memfds, the closed fd 1000, other fds as ioctl targets).
/// </summary>
internal static partial class ErrnoRowActions
{
    public static IReadOnlyDictionary<string, Func<ErrnoFixture, string>> ByName { get; } = Build();

    private static Dictionary<string, Func<ErrnoFixture, string>> Build()
    {
        var rows = new Dictionary<string, Func<ErrnoFixture, string>>();
        AddGuestMemfdRows(rows);
        AddRegion2Rows(rows);
        AddOrderAndLifecycleRows(rows);
        AddFallocateAndAttributeRows(rows);
        return rows;
    }

    private static void AddGuestMemfdRows(Dictionary<string, Func<ErrnoFixture, string>> rows)
    {
        const string a = "gmem | ";
        rows[a + "size=0"] = f => f.Gm(0, 0);
        rows[a + "size=4095 (unaligned)"] = f => f.Gm(4095, 0);
        rows[a + "size=4097 (unaligned)"] = f => f.Gm(4097, 0);
        rows[a + "size=4096 (minimum)"] = f => f.Gm(4096, 0);
        rows[a + "size=-4096 (0xfffffffffffff000, negative loff_t)"] = f => f.Gm(0xfffffffffffff000, 0);
        rows[a + "size=1<<63"] = f => f.Gm(1UL << 63, 0);
        rows[a + "size=1 TiB (1<<40)"] = f => f.Gm(1UL << 40, 0);
        rows[a + "size=1<<50"] = f => f.Gm(1UL << 50, 0);
        rows[a + "size=1<<62"] = f => f.Gm(1UL << 62, 0);
        rows[a + "size=(1<<63)-4096 (max page-aligned loff_t)"] = f => f.Gm((1UL << 63) - 4096, 0);
        rows[a + "flags=1<<2 (unknown)"] = f => f.Gm(2 * M, 1UL << 2);
        rows[a + "flags=1<<63 (unknown)"] = f => f.Gm(2 * M, 1UL << 63);
        rows[a + "flags=INIT_SHARED only (no MMAP)"] = f => f.Gm(2 * M, (ulong)GuestMemfdFlags.InitShared);
        rows[a + "flags=MMAP|INIT_SHARED|1<<2"] = f => f.Gm(2 * M, 7);
        rows[a + "size=0 + unknown flag (which check first)"] = f => f.Gm(0, 1UL << 2);
        rows[a + "reserved[0]=1"] = f => GmRaw(f.Vm.Fd.Handle, 2 * M, 0, 0, 1);
        rows[a + "reserved[5]=1"] = f => GmRaw(f.Vm.Fd.Handle, 2 * M, 0, 5, 1);
        rows[a + "ioctl on /dev/kvm fd"] = f => GmRaw(f.Hypervisor.System.Handle, 2 * M, 0);
        rows[a + "ioctl on vCPU fd"] = f => GmRaw(f.Keep(f.Vm.Fd.CreateVcpu(0)).Handle, 2 * M, 0);
    }

    private static void AddFallocateAndAttributeRows(Dictionary<string, Func<ErrnoFixture, string>> rows)
    {
        const string a = "fallocate | ";
        const FallocateMode ks = FallocateMode.KeepSize;
        const FallocateMode ph = FallocateMode.PunchHole | FallocateMode.KeepSize;
        const long m = (long)M;
        rows[a + "PUNCH|KEEP off=100 len=4096 (unaligned off)"] = f => f.Fa(ph, 100, 4096);
        rows[a + "PUNCH|KEEP off=0 len=100 (unaligned len)"] = f => f.Fa(ph, 0, 100);
        rows[a + "KEEP off=4096 len=4095 (unaligned len)"] = f => f.Fa(ks, 4096, 4095);
        rows[a + "KEEP off=0 len=4M (whole file)"] = f => f.Fa(ks, 0, 4 * m);
        rows[a + "KEEP off=0 len=8M (past size)"] = f => f.Fa(ks, 0, 8 * m);
        rows[a + "KEEP off=4M len=4096 (starts at size)"] = f => f.Fa(ks, 4 * m, 4096);
        rows[a + "KEEP off=8M len=4096 (beyond size)"] = f => f.Fa(ks, 8 * m, 4096);
        rows[a + "PUNCH|KEEP off=4M-4K len=8K (crosses end)"] = f => f.Fa(ph, (4 * m) - 4096, 8192);
        rows[a + "PUNCH|KEEP off=8M len=4K (beyond size)"] = f => f.Fa(ph, 8 * m, 4096);
        rows[a + "PUNCH|KEEP off=0 len=4M (whole file, slot0 bound)"] = f => f.Fa(ph, 0, 4 * m);
        rows[a + "PUNCH|KEEP len=0"] = f => f.Fa(ph, 0, 0);
        rows[a + "KEEP off=-4096"] = f => f.Fa(ks, -4096, 4096);
        rows[a + "KEEP off=LLONG_MAX-4095 len=8192 (overflow)"] = f => f.Fa(ks, long.MaxValue - 4095, 8192);
        rows[a + "mode=0 (plain) in range"] = f => f.Fa(FallocateMode.Default, 0, 4096);
        rows[a + "mode=0 (plain) unaligned"] = f => f.Fa(FallocateMode.Default, 1, 100);
        rows[a + "mode=0 (plain) beyond size"] = f => f.Fa(FallocateMode.Default, 8 * m, 4096);
        rows[a + "PUNCH_HOLE without KEEP_SIZE"] = f => f.Fa(FallocateMode.PunchHole, 0, 4096);
        rows[a + "ZERO_RANGE|KEEP_SIZE"] = f => f.Fa(FallocateMode.ZeroRange | ks, 0, 4096);
        rows[a + "KEEP|1<<7 (FALLOC_FL_UNSHARE_RANGE=0x40? use 0x80)"] = f => f.Fa(ks | (FallocateMode)0x80, 0, 4096);
        rows[a + "PUNCH|KEEP unaligned off AND beyond size"] = f => f.Fa(ph, (8 * m) + 1, 4096);

        const string b = "attrs | ";
        rows[b + "PRIVATE on gpa 0 size 4K"] = f => Attrs(f, 0, 4096, MemoryAttributes.Private, 0);
        rows[b + "attrs=0 (shared)"] = f => Attrs(f, 0, 4096, MemoryAttributes.None, 0);
        rows[b + "unaligned, flags=1 (garbage)"] = f => Attrs(f, 1, 1, (MemoryAttributes)1, 1);
    }

    private static string Attrs(ErrnoFixture f, ulong address, ulong size, MemoryAttributes attributes, ulong flags)
    {
        f.Vm.SetMemoryAttributes(address, size, attributes, flags);
        return Ok;
    }
}
