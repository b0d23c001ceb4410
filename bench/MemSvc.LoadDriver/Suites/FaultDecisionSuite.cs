using System.Diagnostics;
using MemSvc.Hypervisor;
using MemSvc.Hypervisor.Simulated;
using MemSvc.LoadDriver.Measure;
using MemSvc.LoadDriver.Report;

namespace MemSvc.LoadDriver.Suites;

/// <summary>
/// Simulated fault decisions, in process: KVM_RUN on a simulated vCPU whose step writes privately to a shared page
/// ends in KVM_EXIT_MEMORY_FAULT, and running again retries the access, so every Run is one decided fault. One
/// thread, then one thread per core (each on its own VM, as vCPUs of different VMs never share a lock).
/// </summary>
internal sealed class FaultDecisionSuite(DriverOptions options)
{
    private const string Group = "simulated faults";
    private const double Target = 5e6;

    public List<Row> Run()
    {
        using var hypervisor = new SimulatedHypervisor();
        var single = Measure(hypervisor, 1);
        var cores = Environment.ProcessorCount;
        var all = Measure(hypervisor, cores);
        var allocated = AllocatedPerFault(hypervisor);
        Progress.Say($"simulated faults: {single:F0}/s on one thread, {all:F0}/s on {cores} threads, {allocated:F0} B allocated per fault");
        return
        [
            new Row(Group, "faults decided per second, 1 thread", Format.Rate(single), "none (absolute)", "-", "≥ 5 M/s per core", single >= Target),
            new Row(Group, $"faults decided per second per core, {cores} threads", Format.Rate(all / cores), "none (absolute)", "-", "≥ 5 M/s per core", all / cores >= Target),
            new Row(Group, "bytes allocated per fault (the exit record)", Format.Bytes(allocated), "none", "-", "-", null),
        ];
    }

    private static double AllocatedPerFault(SimulatedHypervisor hypervisor)
    {
        const int runs = 100_000;
        using var vcpu = FaultingVcpu(hypervisor);
        vcpu.Run();
        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < runs; i++)
        {
            vcpu.Run();
        }

        return (double)(GC.GetAllocatedBytesForCurrentThread() - before) / runs;
    }

    private double Measure(SimulatedHypervisor hypervisor, int threads)
    {
        var vcpus = Enumerable.Range(0, threads).Select(_ => FaultingVcpu(hypervisor)).ToList();
        try
        {
            using var ready = new Barrier(threads + 1);
            var counts = new long[threads];
            var duration = options.FaultDecisionDuration;
            var workers = vcpus.Select((vcpu, i) => new Thread(() =>
            {
                // Warm the path (tiering) before the clock starts.
                for (var n = 0; n < 100_000; n++)
                {
                    vcpu.Run();
                }

                ready.SignalAndWait();
                counts[i] = RunFor(vcpu, duration);
            })).ToList();
            workers.ForEach(w => w.Start());
            ready.SignalAndWait();
            workers.ForEach(w => w.Join());
            return counts.Sum() / duration.TotalSeconds;
        }
        finally
        {
            foreach (var vcpu in vcpus)
            {
                vcpu.Dispose();
            }
        }
    }

    private static long RunFor(IVcpu vcpu, TimeSpan duration)
    {
        var end = Stopwatch.GetTimestamp() + (long)(duration.TotalSeconds * Stopwatch.Frequency);
        long faults = 0;
        while (Stopwatch.GetTimestamp() < end)
        {
            // The clock is read once per 1,000 runs so that it does not weigh on the figure.
            for (var i = 0; i < 1_000; i++)
            {
                if (vcpu.Run() is not VmExit.MemoryFault)
                {
                    throw new InvalidOperationException("the benchmark vCPU stopped faulting");
                }
            }

            faults += 1_000;
        }

        return faults;
    }

    private static IVcpu FaultingVcpu(SimulatedHypervisor hypervisor)
    {
        var vm = hypervisor.CreateVm(VmType.SwProtected);
        var vcpu = vm.CreateVcpu(0);
        vcpu.LoadProgram(new GuestProgram([new GuestStep.WritePattern(0x1000, 4096, 0xAB, AccessIntent.Private), new GuestStep.Halt()]));
        return vcpu;
    }
}
