using static MemSvc.Hypervisor.Tests.Kvm.ErrnoFixture;

namespace MemSvc.Hypervisor.Tests.Kvm;

internal static partial class ErrnoRowActions
{
    private static void AddRegion2Rows(Dictionary<string, Func<ErrnoFixture, string>> rows)
    {
        const string a = "region2 | ";
        const MemoryRegionFlags ro = MemoryRegionFlags.ReadOnly;
        const MemoryRegionFlags dirty = MemoryRegionFlags.LogDirtyPages;
        const ulong g52 = 1UL << 52;
        rows[a + "baseline new slot1 gpa=8M size=2M off=2M"] = f => f.R2(1, Gmf, 8 * M, 2 * M, Anon, f.G, 2 * M);
        rows[a + "gpa unaligned (8M+0x800)"] = f => f.R2(1, Gmf, (8 * M) + 0x800, 1 * M, Anon, f.G, 2 * M);
        rows[a + "size unaligned (1M+0x800)"] = f => f.R2(1, Gmf, 8 * M, (1 * M) + 0x800, Anon, f.G, 2 * M);
        rows[a + "size unaligned, no GUEST_MEMFD flag"] = f => f.R2(1, 0, 8 * M, (1 * M) + 0x800, Anon, null, 0);
        rows[a + "gmem offset unaligned (2M+0x800)"] = f => f.R2(1, Gmf, 8 * M, 1 * M, Anon, f.G, (2 * M) + 0x800);
        rows[a + "offset+size > gmem size (off=3M size=2M, gmem=4M)"] = f => f.R2(1, Gmf, 8 * M, 2 * M, Anon, f.G, 3 * M);
        rows[a + "offset == gmem size (off=4M size=4K)"] = f => f.R2(1, Gmf, 8 * M, 4096, Anon, f.G, 4 * M);
        rows[a + "offset > gmem size (off=8M size=4K)"] = f => f.R2(1, Gmf, 8 * M, 4096, Anon, f.G, 8 * M);
        rows[a + "offset+size wraps u64 (off=2^64-4K size=8K)"] = f => f.R2(1, Gmf, 8 * M, 8192, Anon, f.G, 0xfffffffffffff000);
        rows[a + "size > gmem size (size=8M off=0)"] = f => f.R2(1, Gmf, 8 * M, 8 * M, Anon, f.G, 0);
        rows[a + "gpa overlaps slot0 partially (gpa=1M size=2M off=2M)"] = f => f.R2(1, Gmf, 1 * M, 2 * M, Anon, f.G, 2 * M);
        rows[a + "gpa identical to slot0, other slot id, other gmem range"] = f => f.R2(1, Gmf, 0, 2 * M, Anon, f.G, 2 * M);
        rows[a + "gpa overlaps a plain (non-gmem) slot"] = f =>
        {
            f.R2(2, 0, 16 * M, 2 * M, Anon, null, 0);
            return f.R2(1, Gmf, 16 * M, 2 * M, Anon, f.G, 2 * M);
        };
        rows[a + "same gmem range as slot0 (gpa=8M off=0 size=2M)"] = f => f.R2(1, Gmf, 8 * M, 2 * M, Anon, f.G, 0);
        rows[a + "gmem range partially overlapping slot0 (off=1M size=2M)"] = f => f.R2(1, Gmf, 8 * M, 2 * M, Anon, f.G, 1 * M);
        rows[a + "gmem range adjacent to slot0 (off=2M size=2M)"] = f => f.R2(1, Gmf, 8 * M, 2 * M, Anon, f.G, 2 * M);
        rows[a + "gmem fd created by another VM"] = f => f.R2(1, Gmf, 8 * M, 2 * M, Anon, f.OtherVmsGuestMemfd(), 0);
        rows[a + "non-gmem fd: memfd"] = f => f.Raw2(1, Gmf, 8 * M, 2 * M, f.Ua, f.Memfd(), 0);
        rows[a + "non-gmem fd: /dev/null"] = f => f.Raw2(1, Gmf, 8 * M, 2 * M, f.Ua, f.DevNull(), 0);
        rows[a + "non-gmem fd: eventfd"] = f => f.Raw2(1, Gmf, 8 * M, 2 * M, f.Ua, f.Eventfd(), 0);
        rows[a + "non-gmem fd: the VM fd itself"] = f => f.Raw2(1, Gmf, 8 * M, 2 * M, f.Ua, f.Vm.Fd.Handle.Number, 0);
        rows[a + "guest_memfd = closed fd number (1000)"] = f => f.Raw2(1, Gmf, 8 * M, 2 * M, f.Ua, ClosedFd(), 0);
        rows[a + "guest_memfd = -1 (0xffffffff)"] = f => f.R2(1, Gmf, 8 * M, 2 * M, Anon, null, 0);
        rows[a + "flags=GUEST_MEMFD|READONLY"] = f => f.R2(1, Gmf | ro, 8 * M, 2 * M, Anon, f.G, 2 * M);
        rows[a + "flags=READONLY (plain slot, control)"] = f => f.R2(1, ro, 8 * M, 2 * M, Anon, null, 0);
        rows[a + "flags=GUEST_MEMFD|LOG_DIRTY_PAGES"] = f => f.R2(1, Gmf | dirty, 8 * M, 2 * M, Anon, f.G, 2 * M);
        rows[a + "flags=GUEST_MEMFD|1<<3 (unknown)"] = f => f.R2(1, Gmf | (MemoryRegionFlags)(1U << 3), 8 * M, 2 * M, Anon, f.G, 2 * M);
        rows[a + "flags=1<<16 (unknown, kernel-internal range)"] = f => f.R2(1, (MemoryRegionFlags)(1U << 16), 8 * M, 2 * M, Anon, null, 0);
        rows[a + "slot id 32763 (max valid = NR_MEMSLOTS-1)"] = f => f.R2(32763, Gmf, 8 * M, 2 * M, Anon, f.G, 2 * M);
        rows[a + "slot id 32764 (== NR_MEMSLOTS)"] = f => f.R2(32764, Gmf, 8 * M, 2 * M, Anon, f.G, 2 * M);
        rows[a + "address space 1 (slot = 1<<16 | 1)"] = f => f.R2((1U << 16) | 1, Gmf, 8 * M, 2 * M, Anon, f.G, 2 * M);
        rows[a + "userspace_addr unaligned (UA+1)"] = f => f.R2(1, Gmf, 8 * M, 2 * M, SharedBacking.At(f.Ua + 1), f.G, 2 * M);
        rows[a + "userspace_addr = 0"] = f => f.R2(1, Gmf, 8 * M, 2 * M, SharedBacking.None, f.G, 2 * M);
        rows[a + "userspace_addr = kernel addr 0xffff888000000000"] = f => f.R2(1, Gmf, 8 * M, 2 * M, SharedBacking.At(0xffff888000000000), f.G, 2 * M);
        rows[a + "userspace_addr non-canonical 0x0000800000000000"] = f => f.R2(1, Gmf, 8 * M, 2 * M, SharedBacking.At(0x0000800000000000), f.G, 2 * M);
        rows[a + "userspace_addr unmapped (valid user VA, nothing mapped)"] = f => f.R2(1, Gmf, 8 * M, 2 * M, SharedBacking.At(0x100000000000), f.G, 2 * M);
        rows[a + "pad1 = 1"] = f => f.Raw2(1, Gmf, 8 * M, 2 * M, f.Ua, f.G.Handle.Number, 2 * M, pad1: 1);
        rows[a + "pad2[0] = 1"] = f => f.Raw2(1, Gmf, 8 * M, 2 * M, f.Ua, f.G.Handle.Number, 2 * M, pad2First: 1);
        rows[a + "gpa+size wraps (gpa=2^64-1M size=2M)"] = f => f.R2(1, Gmf, unchecked(0UL - M), 2 * M, Anon, f.G, 2 * M);
        rows[a + "gpa at 1<<48 (== MAXPHYADDR 48)"] = f => f.R2(1, Gmf, 1UL << 48, 2 * M, Anon, f.G, 2 * M);
        rows[a + "gpa at (1<<48)-2M (last 2M below MAXPHYADDR)"] = f => f.R2(1, Gmf, (1UL << 48) - (2 * M), 2 * M, Anon, f.G, 2 * M);
        rows[a + "gpa at 1<<52"] = f => f.R2(1, Gmf, g52, 2 * M, Anon, f.G, 2 * M);
        rows[a + "gpa=(1<<52)-2M size=2M (ends exactly at 2^52)"] = f => f.R2(1, Gmf, g52 - (2 * M), 2 * M, Anon, f.Big(), 0);
        rows[a + "gpa=(1<<52)-2M size=4M (crosses 2^52)"] = f => f.R2(2, Gmf, g52 - (2 * M), 4 * M, Anon, f.Big(), 4 * M);
        rows[a + "gpa=1<<52 size=2M (starts at 2^52)"] = f => f.R2(2, Gmf, g52, 2 * M, Anon, f.Big(), 4 * M);
    }
}
