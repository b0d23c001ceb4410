using System.Diagnostics;
using System.Globalization;
using MemSvc.Client;
using MemSvc.Contracts.V1;
using MemSvc.LoadDriver.Hosting;
using MemSvc.LoadDriver.Measure;
using MemSvc.LoadDriver.Report;

namespace MemSvc.LoadDriver.Suites;

/// <summary>
/// One SDK FaultOrchestrator (in a child process, <see cref="OrchestratorChild"/>) serving, on one stream, first one
/// VM that faults on every step, then many VMs faulting at once: resolution latency beside the single VM's, the
/// single VM's beside two bare unary round trips, the throughput, and the orchestrator process's memory.
/// </summary>
internal sealed class OrchestratorSuite(DriverOptions options)
{
    private const string Group = "orchestrator";
    private const int Concurrency = 64;
    private const int StepsPerProgram = 250;
    private const ulong Page = 4096;

    public async Task<List<Row>> RunAsync()
    {
        var vms = options.OrchestratorVms;
        // One owner makes every VM: its VM quota and its rate of state-changing calls (setting 1,000 VMs up is
        // several thousand of them) are raised to fit; the fault path itself (ResolveFault) is never rate limited.
        await using var server = await BenchServer.StartAsync(
            4096,
            ("MemSvc:Quotas:MaxVmsPerOwner", (vms + 1).ToString(CultureInfo.InvariantCulture)),
            ("MemSvc:RateLimit:MutationsPerMinute", "10000000"),
            ("MemSvc:RateLimit:MutationBurst", "100000")).ConfigureAwait(false);
        using var channel = server.Channel(options.Transport);
        var address = options.Transport == Transport.Tcp ? server.Loopback.ToString() : "unix:" + server.SocketPath;
        using var client = new MemSvcClient(options.Transport == Transport.Tcp ? new MemSvcClientOptions { Address = server.Loopback } : new MemSvcClientOptions { SocketPath = server.SocketPath });

        var roundTrips = new BareRoundTrips(channel, 80);
        await JitSettle.WaitAsync(() => roundTrips.RunAsync(100, record: false), TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(options.Quick ? 2 : 30)).ConfigureAwait(false);
        await roundTrips.RunAsync(options.ResolutionSamples, record: true).ConfigureAwait(false);
        var bare = roundTrips.Pairs;
        var one = await PhaseAsync(client, address, "one", 1, StepsPerProgram, options.OrchestratorSingleRounds, options.Quick).ConfigureAwait(false);
        Progress.Say($"orchestrator: 1 VM, {one.Count} faults, p50 {Format.Micros(one.P50)}; {Format.Count(vms)} VMs next");
        var many = await PhaseAsync(client, address, "many", vms, options.OrchestratorFaultsPerVm, 1, options.Quick).ConfigureAwait(false);
        Progress.Say($"orchestrator: {Format.Count(vms)} VMs, {many.Count} faults, p50 {Format.Micros(many.P50)}");

        var label = $"{Format.Count(vms)} VMs × {options.OrchestratorFaultsPerVm} faults";
        return
        [
            new Row(Group, "warm-up before measuring: until neither process compiled a method for 1 s", $"1 VM: {one.WarmUp}; {Format.Count(vms)} VMs: {many.WarmUp}", "-", "-", "-", null),
            Compare("resolution p50, 1 VM", one.P50, bare.Percentile(50), "2 bare unary RTTs"),
            Compare("resolution p99, 1 VM", one.P99, bare.Percentile(99), "2 bare unary RTTs"),
            Compare($"resolution p50, {label} at once", many.P50, one.P50, "1 VM"),
            Compare($"resolution p99, {label} at once", many.P99, one.P99, "1 VM"),
            new Row(Group, $"faults resolved/s, {label}", Format.Rate(many.Count / many.Seconds), $"{Format.Rate(one.Count / one.Seconds)} (1 VM)", Format.Ratio(many.Count / many.Seconds / (one.Count / one.Seconds)), "-", null),
            new Row(Group, $"orchestrator process peak RSS, {label}", Format.Bytes(many.PeakRss), $"{Format.Bytes(one.PeakRss)} (1 VM)", Format.Ratio((double)many.PeakRss / one.PeakRss), "-", null),
            new Row(Group, $"orchestrator managed heap at the end, {label}", Format.Bytes(many.Heap), $"{Format.Bytes(one.Heap)} (1 VM)", Format.Ratio((double)many.Heap / one.Heap), "-", null),
        ];
    }

    private static Row Compare(string what, double figure, double baseline, string baselineName) =>
        new(Group, what, Format.Micros(figure), $"{Format.Micros(baseline)} ({baselineName})", Format.Ratio(figure / baseline), "-", null, Format.AddedMicros(figure - baseline));

    /// <summary>VMs made and loaded, the orchestrator started and listed, then every vCPU started (rounds times).</summary>
    private static async Task<Phase> PhaseAsync(MemSvcClient client, string address, string prefix, int vms, int faults, int rounds, bool quick)
    {
        var names = new List<string>(vms);
        for (var i = 0; i < vms; i++)
        {
            names.Add(await CreateAsync(client, $"orch-{prefix}-{i.ToString("d4", CultureInfo.InvariantCulture)}", faults).ConfigureAwait(false));
        }

        using var child = StartChild(address, vms * faults * rounds);
        var ready = await child.StandardOutput.ReadLineAsync().ConfigureAwait(false);
        if (ready?.StartsWith("ready ", StringComparison.Ordinal) != true)
        {
            throw new InvalidOperationException($"the orchestrator process said '{ready}' instead of ready");
        }

        var warmUp = await WarmUpAsync(client, child, names, faults, quick).ConfigureAwait(false);
        await child.StandardInput.WriteLineAsync("measure").ConfigureAwait(false);
        await child.StandardInput.FlushAsync().ConfigureAwait(false);
        if (await child.StandardOutput.ReadLineAsync().ConfigureAwait(false) is not "measuring")
        {
            throw new InvalidOperationException("the orchestrator process did not start measuring");
        }

        for (var round = 0; round < rounds; round++)
        {
            foreach (var name in names)
            {
                await client.Vcpus.StartAsync(name, 0).ConfigureAwait(false);
            }

            if (round < rounds - 1)
            {
                foreach (var name in names)
                {
                    await WaitHaltedAsync(client, name).ConfigureAwait(false);
                    await client.Vcpus.LoadProgramAsync(name, 0, Flipping(faults)).ConfigureAwait(false);
                }
            }
        }

        var done = (await child.StandardOutput.ReadLineAsync().ConfigureAwait(false))?.Split(' ');
        await child.WaitForExitAsync().ConfigureAwait(false);
        if (done is not ["done", var count, var p50, var p99, _, var peak, var heap, var seconds] || child.ExitCode != 0)
        {
            throw new InvalidOperationException($"the orchestrator process exited {child.ExitCode} saying '{string.Join(' ', done ?? [])}'");
        }

        foreach (var name in names)
        {
            await client.Vms.DeleteAsync(name).ConfigureAwait(false);
        }

        return new Phase(
            int.Parse(count, CultureInfo.InvariantCulture),
            double.Parse(p50, CultureInfo.InvariantCulture),
            double.Parse(p99, CultureInfo.InvariantCulture),
            long.Parse(peak, CultureInfo.InvariantCulture),
            long.Parse(heap, CultureInfo.InvariantCulture),
            double.Parse(seconds, CultureInfo.InvariantCulture),
            warmUp);
    }

    /// <summary>
    /// Whole rounds (every vCPU started, run to its halt, loaded again) until neither this process (the server) nor
    /// the orchestrator's has compiled a method for a second: the rounds after it meet the steady state a
    /// long-running orchestrator and daemon are in, not tiered compilation at work on the same two cores.
    /// </summary>
    private static async Task<string> WarmUpAsync(MemSvcClient client, Process child, List<string> names, int faults, bool quick)
    {
        var started = Stopwatch.GetTimestamp();
        var atMost = TimeSpan.FromSeconds(quick ? 2 : 30);
        (long Server, long Orchestrator) last = default;
        var quietSince = Stopwatch.GetTimestamp();
        var rounds = 0;
        while (true)
        {
            foreach (var name in names)
            {
                await client.Vcpus.StartAsync(name, 0).ConfigureAwait(false);
            }

            foreach (var name in names)
            {
                await WaitHaltedAsync(client, name).ConfigureAwait(false);
                await client.Vcpus.LoadProgramAsync(name, 0, Flipping(faults)).ConfigureAwait(false);
            }

            rounds++;
            await child.StandardInput.WriteLineAsync("jit").ConfigureAwait(false);
            await child.StandardInput.FlushAsync().ConfigureAwait(false);
            var answer = await child.StandardOutput.ReadLineAsync().ConfigureAwait(false);
            if (answer?.Split(' ') is not ["jit", var compiled])
            {
                throw new InvalidOperationException($"the orchestrator process said '{answer}' instead of its JIT count");
            }

            var now = (System.Runtime.JitInfo.GetCompiledMethodCount(), long.Parse(compiled, CultureInfo.InvariantCulture));
            if (now != last)
            {
                last = now;
                quietSince = Stopwatch.GetTimestamp();
            }

            var took = Stopwatch.GetElapsedTime(started);
            var settled = Stopwatch.GetElapsedTime(quietSince) >= TimeSpan.FromSeconds(1);
            if (settled || took >= atMost)
            {
                return $"{rounds} rounds, {took.TotalSeconds:F1} s{(settled ? "" : ", the JIT still busy")}";
            }
        }
    }

    private static Process StartChild(string address, int faults)
    {
        var start = new ProcessStartInfo(Environment.ProcessPath!) { RedirectStandardOutput = true, RedirectStandardInput = true };
        if (Path.GetFileNameWithoutExtension(Environment.ProcessPath) == "dotnet")
        {
            start.ArgumentList.Add(typeof(OrchestratorSuite).Assembly.Location);
        }

        foreach (var arg in new[] { OrchestratorChild.Flag, address, faults.ToString(CultureInfo.InvariantCulture), Concurrency.ToString(CultureInfo.InvariantCulture) })
        {
            start.ArgumentList.Add(arg);
        }

        return Process.Start(start) ?? throw new InvalidOperationException("the orchestrator process did not start");
    }

    /// <summary>An ORCHESTRATOR VM with one vCPU, 2 MiB of guest_memfd at gpa 0 and a program that faults on every step.</summary>
    private static async Task<string> CreateAsync(MemSvcClient client, string id, int faults)
    {
        var vm = await client.Vms.CreateAsync(new CreateVmRequest
        {
            VmId = id,
            Backend = Backend.Simulated,
            VmType = VmType.SwProtected,
            VcpuCount = 1,
            FaultPolicy = FaultPolicy.Orchestrator,
            ResolutionTimeout = Google.Protobuf.WellKnownTypes.Duration.FromTimeSpan(TimeSpan.FromMinutes(10)),
        }).ConfigureAwait(false);
        var gmem = await client.Memory.CreateGuestMemfdAsync(vm.Name, 2 << 20, []).ConfigureAwait(false);
        await client.Memory.SetMemoryRegionAsync(new SetMemoryRegionRequest
        {
            Parent = vm.Name,
            Slot = 0,
            Gpa = 0,
            Size = 2 << 20,
            Flags = { MemoryRegionFlag.GuestMemfd },
            GuestMemfd = gmem.Name,
        }).ConfigureAwait(false);
        await client.Vcpus.LoadProgramAsync(vm.Name, 0, Flipping(faults)).ConfigureAwait(false);
        return vm.Name;
    }

    /// <summary>
    /// Writes to one page, private and shared in turn: every step faults once, and with an even count of steps
    /// every later run of it faults on every step too (it starts private where the last ended shared).
    /// </summary>
    private static GuestProgram Flipping(int faults)
    {
        var program = new GuestProgram();
        for (var i = 0; i < faults; i++)
        {
            var intent = i % 2 == 0 ? AccessIntent.Private : AccessIntent.Shared;
            program.Steps.Add(new GuestStep { WritePattern = new WritePatternStep { Gpa = Page, Length = Page, Pattern = (uint)i & 0xff, Intent = intent } });
        }

        program.Steps.Add(new GuestStep { Halt = new HaltStep() });
        return program;
    }

    private static async Task WaitHaltedAsync(MemSvcClient client, string vm)
    {
        while ((await client.Vcpus.GetAsync(vm, 0).ConfigureAwait(false)).State is not (VcpuState.Halted or VcpuState.Failed))
        {
            await Task.Delay(5).ConfigureAwait(false);
        }
    }

    private sealed record Phase(int Count, double P50, double P99, long PeakRss, long Heap, double Seconds, string WarmUp);
}
