using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using MemSvc.Hypervisor;
using MemSvc.Hypervisor.Kvm;
using MemSvc.LoadDriver.Measure;
using MemSvc.LoadDriver.Report;

namespace MemSvc.LoadDriver.Suites;

/// <summary>
/// The kvm exit loop: a guest of 255 Report steps (an `out` each, compiled to long mode at CPL3) run through the
/// C# run loop, against the C probe's KVM_RUN round trip (its long64 CPL3 `out` loop, the mode the kvm backend
/// compiles to), built with make from a copy of bench/kvm-probe and run in the same job. Any exit other than the
/// program's port writes and its final halt ends the row as failed, naming the exit: a guest that cannot run on a
/// host is a result, never a loop that spins forever.
/// </summary>
internal sealed partial class KvmExitLoopSuite(DriverOptions options, string probeSource)
{
    private const string Group = "kvm";
    private const string What = "exit loop (port write), exits/s";
    private const string Target = "≥ 1/1.5 of the C probe";
    private const ulong M = 1UL << 20;

    /// <summary>The row, and the C probe's exits per second when it ran (the kvm fault row's baseline).</summary>
    public (List<Row> Rows, double? ProbeExitsPerSecond) Run()
    {
        if (!KvmHypervisor.TryOpen(out var kvm, out var reason))
        {
            return ([Row.Skipped(Group, What, $"/dev/kvm absent ({reason})", Target)], null);
        }

        using (kvm)
        {
            var csharp = MeasureRunLoop(kvm, out var unexpected);
            if (csharp is null)
            {
                return ([new Row(Group, What, "failed", $"the guest program ended in {unexpected}, not its port writes and halt", "-", Target, false)], RunProbe());
            }

            var probe = RunProbe();
            if (probe is null)
            {
                return ([new Row(Group, What, Format.Rate(csharp.Value), "C probe: did not build or run (see stderr)", "-", Target, null)], null);
            }

            // The target holds where /dev/kvm is native; under an emulated CPU (the nested KVM) the row is reported, not judged.
            var fraction = csharp.Value / probe.Value;
            var baseline = $"{Format.Rate(probe.Value)} (C probe, long64 CPL3{(Machine.IsEmulatedCpu ? "; emulated CPU, not judged" : "")})";
            return ([new Row(Group, What, Format.Rate(csharp.Value), baseline, Format.Percent(fraction), Target, Machine.IsEmulatedCpu ? null : fraction >= 1 / 1.5)], probe);
        }
    }

    private double? MeasureRunLoop(KvmHypervisor kvm, out VmExit? unexpected)
    {
        using var vm = kvm.CreateVm(VmType.Default);
        vm.SetUserMemoryRegion(new MemoryRegion(1, MemoryRegionFlags.None, 2 * M, 4 * M, SharedBacking.Anonymous));
        using var vcpu = vm.CreateVcpu(0);
        var steps = Enumerable.Range(0, GuestProgram.MaxSteps - 1).Select(i => (GuestStep)new GuestStep.Report((uint)i)).Append(new GuestStep.Halt()).ToList();
        var program = new GuestProgram(steps);
        long exits = 0;
        var start = Stopwatch.GetTimestamp();
        while (exits < options.KvmExits)
        {
            // Loading is outside KVM_RUN but inside the clock: it happens once per 255 exits, as a real loop would reload.
            vcpu.LoadProgram(program);
            VmExit exit;
            while ((exit = vcpu.Run()) is VmExit.PortIo)
            {
                exits++;
            }

            if (exit is not VmExit.Halt)
            {
                Progress.Say($"kvm: the guest program ended in {exit} after {exits} port writes");
                unexpected = exit;
                return null;
            }
        }

        var rate = exits / Stopwatch.GetElapsedTime(start).TotalSeconds;
        Progress.Say($"kvm: C# run loop {rate:F0} exits/s");
        unexpected = null;
        return rate;
    }

    // Builds the probe in a temporary copy (its bin/ is never written in the shared tree) and parses bench's line.
    private double? RunProbe()
    {
        var directory = Directory.CreateTempSubdirectory("kvm-probe-").FullName;
        try
        {
            foreach (var file in Directory.GetFiles(probeSource))
            {
                File.Copy(file, Path.Combine(directory, Path.GetFileName(file)));
            }

            if (Execute("make", "bin/exit_loop", directory) is null)
            {
                return null;
            }

            var output = Execute(Path.Combine(directory, "bin", "exit_loop"), options.KvmExits.ToString(CultureInfo.InvariantCulture), directory);
            var match = output is null ? null : ProbeLine().Match(output);
            if (match is not { Success: true })
            {
                Progress.Say("kvm: the probe's output has no long64 CPL3 exits/s line");
                return null;
            }

            var rate = double.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture);
            Progress.Say($"kvm: C probe {rate:F0} exits/s");
            return rate;
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    private static string? Execute(string file, string arguments, string directory)
    {
        var start = new ProcessStartInfo(file, arguments) { WorkingDirectory = directory, RedirectStandardOutput = true, RedirectStandardError = true };
        using var process = Process.Start(start);
        if (process is null)
        {
            return null;
        }

        var stderr = process.StandardError.ReadToEndAsync();
        var stdout = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0)
        {
            Progress.Say($"kvm: {file} {arguments} exited {process.ExitCode}: {stderr.Result}");
            return null;
        }

        return stdout;
    }

    [GeneratedRegex(@"long64 CPL3 `out` loop[^\n]*\n\s*-> (\d+) exits/s")]
    private static partial Regex ProbeLine();
}
