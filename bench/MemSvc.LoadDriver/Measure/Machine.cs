namespace MemSvc.LoadDriver.Measure;

/// <summary>The machine a run is on, for the table's header: figures mean little without it.</summary>
internal static class Machine
{
    /// <summary>
    /// Whether the CPU is QEMU's software emulation (TCG), as in the nested KVM of tests/kvm-host: every instruction
    /// is translated, so managed code pays many times what it pays natively and ratios to C say nothing.
    /// </summary>
    public static bool IsEmulatedCpu => CpuModel().Contains("TCG", StringComparison.Ordinal);

    public static string Describe()
    {
        var model = CpuModel();
        var kernel = File.ReadAllText("/proc/sys/kernel/osrelease").Trim();
        return $"{Environment.ProcessorCount} cores ({model}), kernel {kernel}, .NET {Environment.Version}";
    }

    private static string CpuModel() =>
        File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim() ?? "unknown";

    /// <summary>1, 5 and 15 minute load averages: the machine is shared, so the run says how busy it was.</summary>
    public static string Load() => string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3));
}
