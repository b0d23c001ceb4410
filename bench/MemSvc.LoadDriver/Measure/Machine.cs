namespace MemSvc.LoadDriver.Measure;

/// <summary>The machine a run is on, for the table's header: figures mean little without it.</summary>
internal static class Machine
{
    public static string Describe()
    {
        var model = File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim() ?? "unknown";
        var kernel = File.ReadAllText("/proc/sys/kernel/osrelease").Trim();
        return $"{Environment.ProcessorCount} cores ({model}), kernel {kernel}, .NET {Environment.Version}";
    }

    /// <summary>1, 5 and 15 minute load averages: the machine is shared, so the run says how busy it was.</summary>
    public static string Load() => string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3));
}
