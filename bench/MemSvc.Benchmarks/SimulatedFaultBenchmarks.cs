using BenchmarkDotNet.Attributes;
using MemSvc.Hypervisor;
using MemSvc.Hypervisor.Simulated;

namespace MemSvc.Benchmarks;

/// <summary>
/// One simulated KVM_RUN that ends in KVM_EXIT_MEMORY_FAULT (a private write to a shared page; running again
/// retries it), and one that ends in a port write: the fault decision beside the cheapest exit there is.
/// </summary>
[MemoryDiagnoser]
public class SimulatedFaultBenchmarks
{
    private IVm _vm = null!;
    private IVcpu _faulting = null!;
    private IVcpu _reporting = null!;
    private GuestProgram _reports = null!;
    private int _left;

    [GlobalSetup]
    public void Setup()
    {
        _vm = new SimulatedHypervisor().CreateVm(VmType.SwProtected);
        _faulting = _vm.CreateVcpu(0);
        _faulting.LoadProgram(new GuestProgram([new GuestStep.WritePattern(0x1000, 4096, 0xAB, AccessIntent.Private), new GuestStep.Halt()]));
        _reporting = _vm.CreateVcpu(1);
        _reports = new GuestProgram([.. Enumerable.Range(0, GuestProgram.MaxSteps).Select(i => (GuestStep)new GuestStep.Report((uint)i))]);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _faulting.Dispose();
        _reporting.Dispose();
        _vm.Dispose();
    }

    [Benchmark(Baseline = true)]
    public VmExit MemoryFault() => _faulting.Run();

    [Benchmark]
    public VmExit PortWrite()
    {
        // Reloaded every 256 exits, as the program has at most 256 steps.
        if (_left-- == 0)
        {
            _reporting.LoadProgram(_reports);
            _left = GuestProgram.MaxSteps - 1;
        }

        return _reporting.Run();
    }
}
