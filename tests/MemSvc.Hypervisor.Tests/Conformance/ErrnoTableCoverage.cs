using MemSvc.Hypervisor.Tests.Kvm;

namespace MemSvc.Hypervisor.Tests.Conformance;

/// <summary>
/// Every row of results.txt's errno table is pinned somewhere: in the backend-agnostic <see cref="ErrnoTableRows"/>
/// (run on the simulated backend and on real /dev/kvm), or in the kvm-only <see cref="RawIoctlErrnoRows"/>, under
/// its results.txt name and with results.txt's answer; and the only rows not run on a real kernel are the ones
/// listed in <see cref="NotRunOnRealKvm"/>.
/// </summary>
public class ErrnoTableCoverage
{
    /// <summary>
    /// The "errno_table" section of /work/shared/kvm/probe/results.txt (kvm/probe/errno_table.c on 6.18.44),
    /// verbatim: "area | case | result".
    /// </summary>
    private const string ResultsTxt = """
        gmem       | size=0                                                           | EINVAL
        gmem       | size=4095 (unaligned)                                            | EINVAL
        gmem       | size=4097 (unaligned)                                            | EINVAL
        gmem       | size=4096 (minimum)                                              | OK(fd)
        gmem       | size=-4096 (0xfffffffffffff000, negative loff_t)                 | EINVAL
        gmem       | size=1<<63                                                       | EINVAL
        gmem       | size=1 TiB (1<<40)                                               | OK(fd)
        gmem       | size=1<<50                                                       | OK(fd)
        gmem       | size=1<<62                                                       | OK(fd)
        gmem       | size=(1<<63)-4096 (max page-aligned loff_t)                      | OK(fd)
        gmem       | flags=1<<2 (unknown)                                             | EINVAL
        gmem       | flags=1<<63 (unknown)                                            | EINVAL
        gmem       | flags=INIT_SHARED only (no MMAP)                                 | OK(fd)
        gmem       | flags=MMAP|INIT_SHARED|1<<2                                      | EINVAL
        gmem       | size=0 + unknown flag (which check first)                        | EINVAL
        gmem       | reserved[0]=1                                                    | OK(fd)
        gmem       | reserved[5]=1                                                    | OK(fd)
        gmem       | ioctl on /dev/kvm fd                                             | EINVAL
        gmem       | ioctl on vCPU fd                                                 | EINVAL
        region2    | baseline new slot1 gpa=8M size=2M off=2M                         | OK
        region2    | gpa unaligned (8M+0x800)                                         | EINVAL
        region2    | size unaligned (1M+0x800)                                        | EINVAL
        region2    | size unaligned, no GUEST_MEMFD flag                              | EINVAL
        region2    | gmem offset unaligned (2M+0x800)                                 | EINVAL
        region2    | offset+size > gmem size (off=3M size=2M, gmem=4M)                | EINVAL
        region2    | offset == gmem size (off=4M size=4K)                             | EINVAL
        region2    | offset > gmem size (off=8M size=4K)                              | EINVAL
        region2    | offset+size wraps u64 (off=2^64-4K size=8K)                      | EINVAL
        region2    | size > gmem size (size=8M off=0)                                 | EINVAL
        region2    | gpa overlaps slot0 partially (gpa=1M size=2M off=2M)             | EEXIST
        region2    | gpa identical to slot0, other slot id, other gmem range          | EEXIST
        region2    | gpa overlaps a plain (non-gmem) slot                             | EEXIST
        region2    | same gmem range as slot0 (gpa=8M off=0 size=2M)                  | EINVAL
        region2    | gmem range partially overlapping slot0 (off=1M size=2M)          | EINVAL
        region2    | gmem range adjacent to slot0 (off=2M size=2M)                    | OK
        region2    | gmem fd created by another VM                                    | EINVAL
        region2    | non-gmem fd: memfd                                               | EINVAL
        region2    | non-gmem fd: /dev/null                                           | EINVAL
        region2    | non-gmem fd: eventfd                                             | EINVAL
        region2    | non-gmem fd: the VM fd itself                                    | EINVAL
        region2    | guest_memfd = closed fd number (1000)                            | EBADF
        region2    | guest_memfd = -1 (0xffffffff)                                    | EBADF
        region2    | flags=GUEST_MEMFD|READONLY                                       | EINVAL
        region2    | flags=READONLY (plain slot, control)                             | OK
        region2    | flags=GUEST_MEMFD|LOG_DIRTY_PAGES                                | EINVAL
        region2    | flags=GUEST_MEMFD|1<<3 (unknown)                                 | EINVAL
        region2    | flags=1<<16 (unknown, kernel-internal range)                     | EINVAL
        region2    | slot id 32763 (max valid = NR_MEMSLOTS-1)                        | OK
        region2    | slot id 32764 (== NR_MEMSLOTS)                                   | EINVAL
        region2    | address space 1 (slot = 1<<16 | 1)                               | EINVAL
        region2    | userspace_addr unaligned (UA+1)                                  | EINVAL
        region2    | userspace_addr = 0                                               | OK
        region2    | userspace_addr = kernel addr 0xffff888000000000                  | EINVAL
        region2    | userspace_addr non-canonical 0x0000800000000000                  | EINVAL
        region2    | userspace_addr unmapped (valid user VA, nothing mapped)          | OK
        region2    | pad1 = 1                                                         | OK
        region2    | pad2[0] = 1                                                      | OK
        region2    | gpa+size wraps (gpa=2^64-1M size=2M)                             | EINVAL
        region2    | gpa at 1<<48 (== MAXPHYADDR 48)                                  | OK
        region2    | gpa at (1<<48)-2M (last 2M below MAXPHYADDR)                     | OK
        region2    | gpa at 1<<52                                                     | EINVAL
        region2    | gpa=(1<<52)-2M size=2M (ends exactly at 2^52)                    | OK
        region2    | gpa=(1<<52)-2M size=4M (crosses 2^52)                            | EINVAL
        region2    | gpa=1<<52 size=2M (starts at 2^52)                               | EINVAL
        region2    | size = 2^31 pages (8 TiB)                                        | EINVAL
        region2    | size = 2^31-1 pages                                              | OK
        region2    | userspace_addr+size beyond TASK_SIZE (UA+8TiB)                   | EINVAL
        order      | bad fd(1000) + unaligned gpa                                     | EINVAL
        order      | bad fd(1000) + gpa overlapping slot0                             | EEXIST
        order      | non-gmem fd(memfd) + gpa overlapping slot0                       | EEXIST
        order      | same gmem range as slot0 + gpa overlapping slot0                 | EEXIST
        order      | offset past gmem end + gpa overlapping slot0                     | EEXIST
        order      | READONLY + bad fd(1000)                                          | EINVAL
        order      | slot id 32764 + bad fd(1000)                                     | EINVAL
        order      | unaligned userspace_addr + bad fd(1000)                          | EINVAL
        order      | modify slot0 (gmem) with bad fd(1000)                            | EINVAL
        region2    | modify slot0: identical args                                     | EINVAL
        region2    | modify slot0: add LOG_DIRTY_PAGES                                | EINVAL
        region2    | modify slot0: move gpa to 16M                                    | EINVAL
        region2    | modify slot0: drop GUEST_MEMFD flag (same ua/size)               | EINVAL
        region2    | modify plain slot3: add GUEST_MEMFD flag                         | EINVAL
        region2    | delete slot0 (size=0, flags=0, fd=0)                             | OK
        region2    | delete slot0 (size=0, flags=GUEST_MEMFD, fd=1000)                | OK
        region2    | delete slot0 (size=0, flags=READONLY|1<<3)                       | EINVAL
        region2    | delete slot0 (size=0, gpa=unaligned garbage)                     | EINVAL
        region2    | delete never-created slot 9 (size=0)                             | EINVAL
        region2    | rebind after delete: same gmem range                             | OK
        region(v1) | KVM_SET_USER_MEMORY_REGION with GUEST_MEMFD flag                 | EINVAL
        region(v1) | v1 delete of gmem slot0                                          | OK
        region(v1) | v1 modify of gmem slot0 (same gpa/size/ua)                       | EINVAL
        fallocate  | PUNCH|KEEP off=100 len=4096 (unaligned off)                      | EINVAL
        fallocate  | PUNCH|KEEP off=0 len=100 (unaligned len)                         | EINVAL
        fallocate  | KEEP off=4096 len=4095 (unaligned len)                           | EINVAL
        fallocate  | KEEP off=0 len=4M (whole file)                                   | OK
        fallocate  | KEEP off=0 len=8M (past size)                                    | EINVAL
        fallocate  | KEEP off=4M len=4096 (starts at size)                            | EINVAL
        fallocate  | KEEP off=8M len=4096 (beyond size)                               | EINVAL
        fallocate  | PUNCH|KEEP off=4M-4K len=8K (crosses end)                        | OK
        fallocate  | PUNCH|KEEP off=8M len=4K (beyond size)                           | OK
        fallocate  | PUNCH|KEEP off=0 len=4M (whole file, slot0 bound)                | OK
        fallocate  | PUNCH|KEEP len=0                                                 | EINVAL
        fallocate  | KEEP off=-4096                                                   | EINVAL
        fallocate  | KEEP off=LLONG_MAX-4095 len=8192 (overflow)                      | EFBIG
        fallocate  | mode=0 (plain) in range                                          | EOPNOTSUPP
        fallocate  | mode=0 (plain) unaligned                                         | EOPNOTSUPP
        fallocate  | mode=0 (plain) beyond size                                       | EOPNOTSUPP
        fallocate  | PUNCH_HOLE without KEEP_SIZE                                     | EOPNOTSUPP
        fallocate  | ZERO_RANGE|KEEP_SIZE                                             | EOPNOTSUPP
        fallocate  | KEEP|1<<7 (FALLOC_FL_UNSHARE_RANGE=0x40? use 0x80)               | EOPNOTSUPP
        fallocate  | PUNCH|KEEP unaligned off AND beyond size                         | EINVAL
        attrs      | PRIVATE on gpa 0 size 4K                                         | ENOTTY
        attrs      | attrs=0 (shared)                                                 | ENOTTY
        attrs      | unaligned, flags=1 (garbage)                                     | ENOTTY
        """;

    /// <summary>
    /// Rows run on no real kernel, because <see cref="ErrnoRow.NotOnRealKvmBecause"/> says so (the simulated backend
    /// runs them): "size = 2^31-1 pages" stalls the kernel 26 s allocating 8 TiB of memslot metadata.
    /// </summary>
    private static readonly string[] NotRunOnRealKvm = ["region2 | size = 2^31-1 pages"];

    private static readonly Dictionary<string, ErrnoRowTable> ConformanceByArea = new()
    {
        ["gmem"] = ErrnoTableRows.Gmem,
        ["region2"] = ErrnoTableRows.Region2,
        ["region(v1)"] = ErrnoTableRows.RegionV1,
        ["order"] = ErrnoTableRows.Order,
        ["fallocate"] = ErrnoTableRows.Fallocate,
        ["attrs"] = ErrnoTableRows.Attrs,
    };

    [Fact]
    public void Results_txt_has_113_errno_rows_with_unique_names()
    {
        var rows = Rows();
        Assert.Equal(113, rows.Count);
        Assert.Equal(rows.Count, rows.Select(r => r.Name).Distinct().Count());
    }

    [Fact]
    public void Every_results_txt_row_is_in_the_conformance_table_or_the_raw_ioctl_rows()
    {
        var uncovered = Rows().Where(r => ConformanceRow(r) is null && RawRow(r) is null).Select(r => r.Name);
        Assert.Empty(uncovered);
    }

    [Fact]
    public void Every_row_runs_on_real_kvm_but_the_listed_ones()
    {
        var notOnKvm = Rows()
            .Where(r => RawRow(r) is null && (ConformanceRow(r) is null || ConformanceRow(r)!.NotOnRealKvmBecause is not null))
            .Select(r => r.Name);
        Assert.Equal(NotRunOnRealKvm, notOnKvm);
    }

    [Fact]
    public void Every_row_name_in_the_two_sets_is_a_results_txt_row_of_its_area()
    {
        var names = Rows().Select(r => r.Name).ToHashSet();
        var conformance = ConformanceByArea.SelectMany(a => a.Value.Keys.Select(c => $"{a.Key} | {c}"));
        var raw = RawIoctlErrnoRows.ByArea.SelectMany(a => a.Value.Keys.Select(c => $"{a.Key} | {c}"));
        var unknown = conformance.Concat(raw).Where(n => !names.Contains(n)).ToList();
        Assert.Empty(unknown);
    }

    [Fact]
    public void Both_sets_expect_what_results_txt_says()
    {
        var wrong = new List<string>();
        foreach (var row in Rows())
        {
            if (ConformanceRow(row) is { } c && Answer(c.ExpectedFor(HostShape.ProbeHost)) != Answer(row.Result))
            {
                wrong.Add($"Conformance {row.Name}: {Answer(c.ExpectedFor(HostShape.ProbeHost))}, results.txt {row.Result}");
            }

            if (RawRow(row) is { } r && Answer(r.Expected) != Answer(row.Result))
            {
                wrong.Add($"RawIoctl {row.Name}: {Answer(r.Expected)}, results.txt {row.Result}");
            }
        }

        Assert.Empty(wrong);
    }

    /// <summary>
    /// kvm/nested/results-nested.txt (Debian's 7.2 with NPT) gives the same answer as results.txt on every errno row
    /// but these; derived from <see cref="HostShape.NestedHost"/>, the rows give the nested kernel's answers too.
    /// </summary>
    [Theory]
    [InlineData("region2", "same gmem range as slot0 (gpa=8M off=0 size=2M)", "EEXIST")]
    [InlineData("region2", "gmem range partially overlapping slot0 (off=1M size=2M)", "EEXIST")]
    [InlineData("region2", "address space 1 (slot = 1<<16 | 1)", "OK")]
    [InlineData("region2", "gpa at 1<<48 (== MAXPHYADDR 48)", "EINVAL")]
    [InlineData("region2", "gpa=(1<<52)-2M size=2M (ends exactly at 2^52)", "EINVAL")]
    [InlineData("attrs", "PRIVATE on gpa 0 size 4K", "EINVAL")]
    [InlineData("attrs", "attrs=0 (shared)", "OK")]
    [InlineData("attrs", "unaligned, flags=1 (garbage)", "EINVAL")]
    public void Rows_derive_the_nested_kernels_answers_where_they_differ(string area, string name, string nested)
    {
        var row = ConformanceByArea[area][name];
        Assert.Equal(nested, Answer(row.ExpectedFor(HostShape.NestedHost)));
        Assert.NotEqual(nested, Answer(row.ExpectedFor(HostShape.ProbeHost)));
    }

    [Fact]
    public void Every_other_row_answers_the_same_on_both_recorded_hosts()
    {
        var differing = ConformanceByArea
            .SelectMany(a => a.Value.Where(r => r.Value.ExpectedFor(HostShape.NestedHost) != r.Value.ExpectedFor(HostShape.ProbeHost)).Select(r => r.Key))
            .Order()
            .ToList();
        Assert.Equal(8, differing.Count);
    }

    [Fact]
    public void Row_counts()
    {
        Assert.Equal(106, ConformanceByArea.Sum(a => a.Value.Count));
        Assert.Equal(22, RawIoctlErrnoRows.ByArea.Sum(a => a.Value.Count));
    }

    private static string Answer(Errno? errno) => errno?.ToString() ?? "OK";

    private static string Answer(string result) => result == "OK(fd)" ? "OK" : result;

    private static ErrnoRow? ConformanceRow(ResultsRow row) =>
        ConformanceByArea.TryGetValue(row.Area, out var table) && table.TryGetValue(row.Case, out var found) ? found : null;

    private static RawIoctlErrnoRow? RawRow(ResultsRow row) =>
        RawIoctlErrnoRows.ByArea.TryGetValue(row.Area, out var table) && table.TryGetValue(row.Case, out var found) ? found : null;

    private static List<ResultsRow> Rows() =>
    [
        .. ResultsTxt.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(line =>
        {
            var first = line.IndexOf(" | ", StringComparison.Ordinal);
            var last = line.LastIndexOf(" | ", StringComparison.Ordinal);
            return new ResultsRow(line[..first].Trim(), line[(first + 3)..last].Trim(), line[(last + 3)..].Trim());
        }),
    ];

    private sealed record ResultsRow(string Area, string Case, string Result)
    {
        public string Name => $"{Area} | {Case}";
    }
}
