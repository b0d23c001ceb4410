using BenchmarkDotNet.Attributes;
using MemSvc.Hypervisor;
using MemSvc.Hypervisor.Simulated;
using MemSvc.LoadDriver.Suites;

namespace MemSvc.Benchmarks;

/// <summary>
/// KVM_SET_MEMORY_ATTRIBUTES and the attribute read on the simulated backend (checks, MMU zap, range store)
/// over growing sizes, beside a per-page table, the shape of KVM's per-gfn xarray. The per-page table stops at
/// 1 GiB: 1 TiB would be 268,435,456 entries.
/// </summary>
[MemoryDiagnoser]
public class AttributeBenchmarks
{
    private IVm _vm = null!;
    private PerPageAttributeTable _table = null!;
    private bool _private;

    [Params(4096UL, 2UL << 20, 1UL << 30, 1UL << 40)]
    public ulong Size { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _vm = new SimulatedHypervisor().CreateVm(VmType.SwProtected);
        _vm.SetMemoryAttributes(0, Size, MemoryAttributes.Private);
        _table = new PerPageAttributeTable();
        if (Size <= 1UL << 30)
        {
            _table.Set(0, Size, MemoryAttributes.Private);
        }
    }

    [GlobalCleanup]
    public void Cleanup() => _vm.Dispose();

    // Toggles, so that every call changes the whole range (an unchanged range returns early, MA-8).
    [Benchmark(Baseline = true)]
    public void SetRangeStore()
    {
        _private = !_private;
        _vm.SetMemoryAttributes(0, Size, _private ? MemoryAttributes.Private : MemoryAttributes.None);
    }

    [Benchmark]
    public int GetRangeStore() => _vm.GetMemoryAttributes(0, Size).Count;

    [Benchmark]
    public void SetPerPage()
    {
        if (Size <= 1UL << 30)
        {
            _private = !_private;
            _table.Set(0, Size, _private ? MemoryAttributes.Private : MemoryAttributes.None);
        }
    }

    [Benchmark]
    public int GetPerPage() => Size <= 1UL << 30 ? _table.Get(0, Size).Count : 0;
}
