using System.Diagnostics;
using MemSvc.Hypervisor;
using MemSvc.Hypervisor.Simulated;
using MemSvc.LoadDriver.Measure;
using MemSvc.LoadDriver.Report;

namespace MemSvc.LoadDriver.Suites;

/// <summary>
/// Attributes at scale, in process, on the simulated backend's KVM_SET_MEMORY_ATTRIBUTES (checks, MMU zap and the
/// range store) and its attribute read, against a per-page table. Memory is what a full GC finds retained.
/// </summary>
internal sealed class AttributeScaleSuite(DriverOptions options)
{
    private const string Group = "attributes";
    private const ulong Page = 4096;
    private const int AlternatingRanges = 10_000;

    // The per-page table stops at 1 GiB: 1 TiB would be 268,435,456 entries, tens of GiB of dictionary.
    private const ulong PerPageLimit = 1UL << 30;

    private static readonly (string Name, ulong Size)[] Sizes = [("4 KiB", Page), ("2 MiB", 2UL << 20), ("1 GiB", 1UL << 30), ("1 TiB", 1UL << 40)];

    public List<Row> Run()
    {
        using var hypervisor = new SimulatedHypervisor();
        var rows = new List<Row>();
        var setNs = new Dictionary<string, double>();
        var getNs = new Dictionary<string, double>();
        foreach (var (name, size) in Sizes)
        {
            using var vm = hypervisor.CreateVm(VmType.SwProtected);
            var set = MeanNanos(options.AttributeRepeats, i => vm.SetMemoryAttributes(0, size, i % 2 == 0 ? MemoryAttributes.Private : MemoryAttributes.None));
            vm.SetMemoryAttributes(0, size, MemoryAttributes.Private);
            var get = MeanNanos(options.AttributeRepeats, _ => vm.GetMemoryAttributes(0, size));
            setNs[name] = set;
            getNs[name] = get;
            if (size <= PerPageLimit)
            {
                var table = new PerPageAttributeTable();
                var repeats = size >= PerPageLimit ? Math.Max(5, options.AttributeRepeats / 40) : options.AttributeRepeats;
                var tableSet = MeanNanos(repeats, i => table.Set(0, size, i % 2 == 0 ? MemoryAttributes.Private : MemoryAttributes.None));
                table.Set(0, size, MemoryAttributes.Private);
                var tableGet = MeanNanos(repeats, _ => table.Get(0, size));
                rows.Add(Versus($"set {name}", set, tableSet));
                rows.Add(Versus($"get {name}", get, tableGet));
            }
            else
            {
                rows.Add(new Row(Group, $"set {name}", Format.Nanos(set), "per-page: not run (268,435,456 entries)", "-", "-", null));
                rows.Add(new Row(Group, $"get {name}", Format.Nanos(get), "per-page: not run (268,435,456 entries)", "-", "-", null));
            }

            Progress.Say($"attributes: {name} set {set:F0} ns, get {get:F0} ns");
        }

        rows.Add(Scale("set 1 TiB vs set 4 KiB", setNs["1 TiB"], setNs["4 KiB"]));
        rows.Add(Scale("get 1 TiB vs get 4 KiB", getNs["1 TiB"], getNs["4 KiB"]));
        rows.AddRange(Alternating(hypervisor));
        rows.AddRange(Memory(hypervisor));
        return rows;
    }

    private static Row Versus(string what, double ns, double perPageNs) =>
        new(Group, what, Format.Nanos(ns), $"{Format.Nanos(perPageNs)} (per-page)", Format.Ratio(ns / perPageNs), "-", null);

    private static Row Scale(string what, double big, double small) =>
        new(Group, what, Format.Nanos(big), $"{Format.Nanos(small)} (4 KiB, same store)", Format.Ratio(big / small), "≤ 2x", big / small <= 2);

    private List<Row> Alternating(SimulatedHypervisor hypervisor)
    {
        const ulong span = 2 * AlternatingRanges * Page;
        using var vm = hypervisor.CreateVm(VmType.SwProtected);
        var table = new PerPageAttributeTable();
        var set = MeanNanos(AlternatingRanges, i => vm.SetMemoryAttributes(2 * (ulong)i * Page, Page, MemoryAttributes.Private), reset: false);
        var tableSet = MeanNanos(AlternatingRanges, i => table.Set(2 * (ulong)i * Page, Page, MemoryAttributes.Private), reset: false);
        var runs = vm.GetMemoryAttributes(0, span).Count;
        if (runs != 2 * AlternatingRanges || table.Get(0, span).Count != runs)
        {
            throw new InvalidOperationException($"10,000 alternating ranges read back as {runs} runs");
        }

        var get = MeanNanos(Math.Max(5, options.AttributeRepeats / 10), _ => vm.GetMemoryAttributes(0, span));
        var tableGet = MeanNanos(Math.Max(5, options.AttributeRepeats / 10), _ => table.Get(0, span));
        return
        [
            Versus("set one 4 KiB range into 10,000 alternating (mean per call)", set, tableSet),
            Versus("get over 10,000 alternating 4 KiB ranges (20,000 runs)", get, tableGet),
        ];
    }

    private static List<Row> Memory(SimulatedHypervisor hypervisor)
    {
        // One range is a few hundred bytes, below what a full GC measures reliably: those are measured over
        // many VMs and divided.
        var gib = Retained(hypervisor, SpreadVms, vm => vm.SetMemoryAttributes(0, 1UL << 30, MemoryAttributes.Private));
        var tib = Retained(hypervisor, SpreadVms, vm => vm.SetMemoryAttributes(0, 1UL << 40, MemoryAttributes.Private));
        var alternating = Retained(hypervisor, 1, vm =>
        {
            for (ulong i = 0; i < AlternatingRanges; i++)
            {
                vm.SetMemoryAttributes(2 * i * Page, Page, MemoryAttributes.Private);
            }
        });
        var gibTable = TableRetained(table => table.Set(0, 1UL << 30, MemoryAttributes.Private));
        var alternatingTable = TableRetained(table =>
        {
            for (ulong i = 0; i < AlternatingRanges; i++)
            {
                table.Set(2 * i * Page, Page, MemoryAttributes.Private);
            }
        });
        const string target = "grows with ranges, not pages";
        return
        [
            new Row(Group, "memory held, 1 GiB private (1 range)", Format.Bytes(gib), $"{Format.Bytes(gibTable)} (per-page)", Format.Ratio(gib / gibTable), target, null),
            new Row(Group, "memory held, 1 TiB private (1 range)", Format.Bytes(tib), $"{Format.Bytes(gib)} (1 GiB, same store)", Format.Ratio(tib / gib), target, tib <= 2 * gib + 256),
            new Row(Group, "memory held, 10,000 alternating 4 KiB ranges", Format.Bytes(alternating), $"{Format.Bytes(alternatingTable)} (per-page)", Format.Ratio(alternating / alternatingTable), target, alternating / AlternatingRanges < 256),
        ];
    }

    private const int SpreadVms = 200;

    // Bytes per VM that a full GC finds retained after `fill`, in VMs created beforehand.
    private static double Retained(SimulatedHypervisor hypervisor, int vmCount, Action<IVm> fill)
    {
        var vms = Enumerable.Range(0, vmCount).Select(_ => hypervisor.CreateVm(VmType.SwProtected)).ToList();
        var before = GC.GetTotalMemory(forceFullCollection: true);
        vms.ForEach(fill);
        var after = GC.GetTotalMemory(forceFullCollection: true);
        vms.ForEach(vm => vm.Dispose());
        return (double)(after - before) / vmCount;
    }

    private static double TableRetained(Action<PerPageAttributeTable> fill)
    {
        var table = new PerPageAttributeTable();
        var before = GC.GetTotalMemory(forceFullCollection: true);
        fill(table);
        var after = GC.GetTotalMemory(forceFullCollection: true);
        GC.KeepAlive(table);
        return after - before;
    }

    // Nanoseconds per call: the median of five timed batches of count / 5 calls (calls are far shorter than a
    // timer read), so that one preemption on this shared machine does not become the figure.
    private static double MeanNanos(int count, Action<int> call, bool reset = true)
    {
        const int batches = 5;
        if (reset)
        {
            call(0);
            call(1);
        }

        var perBatch = Math.Max(1, count / batches);
        var means = new double[batches];
        var i = 0;
        for (var b = 0; b < batches; b++)
        {
            var start = Stopwatch.GetTimestamp();
            for (var n = 0; n < perBatch; n++)
            {
                call(i++);
            }

            means[b] = Stopwatch.GetElapsedTime(start).TotalNanoseconds / perBatch;
        }

        Array.Sort(means);
        return means[batches / 2];
    }
}
