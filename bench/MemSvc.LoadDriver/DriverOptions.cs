using MemSvc.LoadDriver.Hosting;

namespace MemSvc.LoadDriver;

/// <summary>Command line: --quick (small counts, for CI to see the benchmarks still run), --transport, --svg.</summary>
internal sealed record DriverOptions(bool Quick, Transport Transport, string? SvgPath)
{
    public const string Usage = "usage: MemSvc.LoadDriver [--quick] [--transport uds|tcp] [--svg PATH]";

    /// <summary>Faults resolved remotely (and baseline round-trip pairs), after warm-up.</summary>
    public int ResolutionSamples => Quick ? 300 : 20_000;

    /// <summary>Events in the journal that each watcher replays.</summary>
    public int StreamEvents => Quick ? 10_000 : 200_000;

    /// <summary>Timed repetitions of each throughput measurement; the median is kept.</summary>
    public int StreamRepeats => Quick ? 1 : 5;

    public IReadOnlyList<int> WatcherCounts => Quick ? [1, 16] : [1, 2, 4, 8, 16];

    public int AttributeRepeats => Quick ? 20 : 200;

    public TimeSpan FaultDecisionDuration => Quick ? TimeSpan.FromMilliseconds(300) : TimeSpan.FromSeconds(3);

    public int KvmExits => Quick ? 20_000 : 200_000;

    public static DriverOptions? Parse(string[] args)
    {
        var quick = false;
        var transport = Transport.Uds;
        string? svg = null;
        for (var i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--quick":
                    quick = true;
                    break;
                case "--transport" when i + 1 < args.Length && args[i + 1] is "uds" or "tcp":
                    transport = args[++i] == "tcp" ? Transport.Tcp : Transport.Uds;
                    break;
                case "--svg" when i + 1 < args.Length:
                    svg = args[++i];
                    break;
                default:
                    return null;
            }
        }

        return new DriverOptions(quick, transport, svg);
    }
}
