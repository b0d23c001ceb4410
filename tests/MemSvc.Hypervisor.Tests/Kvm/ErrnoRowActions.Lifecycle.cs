using static MemSvc.Hypervisor.Tests.Kvm.ErrnoFixture;

namespace MemSvc.Hypervisor.Tests.Kvm;

internal static partial class ErrnoRowActions
{
    private static void AddOrderAndLifecycleRows(Dictionary<string, Func<ErrnoFixture, string>> rows)
    {
        const string o = "order | ";
        const MemoryRegionFlags ro = MemoryRegionFlags.ReadOnly;
        rows[o + "bad fd(1000) + unaligned gpa"] = f => f.Raw2(1, Gmf, (8 * M) + 1, 2 * M, f.Ua, ClosedFd(), 0);
        rows[o + "bad fd(1000) + gpa overlapping slot0"] = f => f.Raw2(1, Gmf, 0, 2 * M, f.Ua, ClosedFd(), 2 * M);
        rows[o + "non-gmem fd(memfd) + gpa overlapping slot0"] = f => f.Raw2(1, Gmf, 0, 2 * M, f.Ua, f.Memfd(), 2 * M);
        rows[o + "same gmem range as slot0 + gpa overlapping slot0"] = f => f.R2(1, Gmf, 1 * M, 2 * M, Anon, f.G, 0);
        rows[o + "offset past gmem end + gpa overlapping slot0"] = f => f.R2(1, Gmf, 1 * M, 2 * M, Anon, f.G, 8 * M);
        rows[o + "READONLY + bad fd(1000)"] = f => f.Raw2(1, Gmf | ro, 8 * M, 2 * M, f.Ua, ClosedFd(), 0);
        rows[o + "slot id 32764 + bad fd(1000)"] = f => f.Raw2(32764, Gmf, 8 * M, 2 * M, f.Ua, ClosedFd(), 0);
        rows[o + "unaligned userspace_addr + bad fd(1000)"] = f => f.Raw2(1, Gmf, 8 * M, 2 * M, f.Ua + 1, ClosedFd(), 0);
        rows[o + "modify slot0 (gmem) with bad fd(1000)"] = f => f.Raw2(0, Gmf, 0, 2 * M, f.Ua, ClosedFd(), 0);

        const string a = "region2 | ";
        rows[a + "modify slot0: identical args"] = f => f.R2(0, Gmf, 0, 2 * M, SharedBacking.At(f.Ua), f.G, 0);
        rows[a + "modify slot0: add LOG_DIRTY_PAGES"] = f => f.R2(0, Gmf | MemoryRegionFlags.LogDirtyPages, 0, 2 * M, SharedBacking.At(f.Ua), f.G, 0);
        rows[a + "modify slot0: move gpa to 16M"] = f => f.R2(0, Gmf, 16 * M, 2 * M, SharedBacking.At(f.Ua), f.G, 0);
        rows[a + "modify slot0: drop GUEST_MEMFD flag (same ua/size)"] = f => f.R2(0, 0, 0, 2 * M, SharedBacking.At(f.Ua), null, 0);
        rows[a + "modify plain slot3: add GUEST_MEMFD flag"] = f =>
        {
            f.R2(3, 0, 32 * M, 2 * M, SharedBacking.At(f.Ua), null, 0);
            return f.R2(3, Gmf, 32 * M, 2 * M, SharedBacking.At(f.Ua), f.G, 2 * M);
        };
        rows[a + "delete slot0 (size=0, flags=0, fd=0)"] = f => f.R2(0, 0, 0, 0, SharedBacking.None, null, 0);
        rows[a + "delete slot0 (size=0, flags=GUEST_MEMFD, fd=1000)"] = f => f.Raw2(0, Gmf, 0, 0, 0, ClosedFd(), 0);
        rows[a + "delete slot0 (size=0, flags=READONLY|1<<3)"] = f => f.R2(0, ro | (MemoryRegionFlags)(1U << 3), 0, 0, SharedBacking.None, null, 0);
        rows[a + "delete slot0 (size=0, gpa=unaligned garbage)"] = f => f.R2(0, 0, 0x123, 0, SharedBacking.None, null, 0);
        rows[a + "delete never-created slot 9 (size=0)"] = f =>
        {
            f.Vm.SetUserMemoryRegion(MemoryRegion.Delete(9));
            return Ok;
        };
        rows[a + "rebind after delete: same gmem range"] = f =>
        {
            f.Vm.SetUserMemoryRegion(MemoryRegion.Delete(0));
            return f.R2(0, Gmf, 0, 2 * M, SharedBacking.At(f.Ua), f.G, 0);
        };

        const string v = "region(v1) | ";
        rows[v + "KVM_SET_USER_MEMORY_REGION with GUEST_MEMFD flag"] = f => f.Raw1(1, Gmf, 8 * M, 2 * M, f.Ua);
        rows[v + "v1 delete of gmem slot0"] = f => f.Raw1(0, 0, 0, 0, 0);
        rows[v + "v1 modify of gmem slot0 (same gpa/size/ua)"] = f => f.Raw1(0, 0, 0, 2 * M, f.Ua);
    }
}
