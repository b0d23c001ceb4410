using CsCheck;
using MemSvc.Hypervisor.Memory;

namespace MemSvc.Hypervisor.Tests.Memory;

public class RangeMapTests
{
    private const ulong TiB = 1UL << 40;

    [Fact]
    public void Setting_a_terabyte_stores_one_run()
    {
        var map = new RangeMap<int>(0);
        map.Set(0, TiB, 7);
        Assert.Equal(1, map.RunCount);
        Assert.Equal(7, map.Get(TiB - 1));
        Assert.Equal(0, map.Get(TiB));
    }

    [Fact]
    public void Overwriting_the_middle_splits_into_three_runs_and_restoring_merges_them()
    {
        var map = new RangeMap<int>(0);
        map.Set(0, 0x10000, 1);
        map.Set(0x4000, 0x8000, 2);
        Assert.Equal(
            [(0UL, 0x4000UL, 1), (0x4000UL, 0x8000UL, 2), (0x8000UL, 0x10000UL, 1)],
            map.Runs(0, 0x10000));
        map.Set(0x4000, 0x8000, 1);
        Assert.Equal(1, map.RunCount);
    }

    [Fact]
    public void Runs_fill_gaps_with_the_default_and_clip_to_the_query()
    {
        var map = new RangeMap<int>(0);
        map.Set(0x2000, 0x3000, 5);
        Assert.Equal(
            [(0x1000UL, 0x2000UL, 0), (0x2000UL, 0x2800UL, 5)],
            map.Runs(0x1000, 0x2800));
    }

    [Fact]
    public void Setting_the_default_removes_runs()
    {
        var map = new RangeMap<int>(0);
        map.Set(0, 0x10000, 3);
        map.Set(0, 0x10000, 0);
        Assert.Equal(0, map.RunCount);
    }

    [Fact]
    public void Agrees_with_a_per_page_array_over_random_operations()
    {
        const int pages = 64;
        Gen.Select(Gen.Int[0, pages], Gen.Int[0, pages], Gen.Int[0, 3])
            .Array[1, 40]
            .Sample(ops =>
            {
                var map = new RangeMap<int>(0);
                var reference = new int[pages];
                foreach (var (a, b, v) in ops)
                {
                    var (lo, hi) = (Math.Min(a, b), Math.Max(a, b));
                    map.Set((ulong)lo * 4096, (ulong)hi * 4096, v);
                    for (var p = lo; p < hi; p++)
                    {
                        reference[p] = v;
                    }
                }

                for (var p = 0; p < pages; p++)
                {
                    if (map.Get((ulong)p * 4096) != reference[p])
                    {
                        return false;
                    }
                }

                var runs = map.Runs(0, pages * 4096UL);
                for (var i = 1; i < runs.Count; i++)
                {
                    if (runs[i].Value == runs[i - 1].Value || runs[i].Start != runs[i - 1].End)
                    {
                        return false;
                    }
                }

                return true;
            });
    }
}
