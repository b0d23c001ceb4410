using MemSvc.LoadDriver.Hosting;

namespace MemSvc.LoadDriver;

/// <summary>
/// Command line: --quick (small counts, for CI to see the benchmarks still run), --transport, --svg, and, to repeat
/// a few rows while working on them, --only (suites) and --watchers (the stream's watcher counts).
/// </summary>
internal sealed record DriverOptions(bool Quick, Transport Transport, string? SvgPath, IReadOnlySet<string> Only, IReadOnlyList<int>? Watchers)
{
    /// <summary>The suites --only can name, in the order a run makes them.</summary>
    public static readonly IReadOnlyList<string> Suites = ["fault", "stream", "fairness", "attributes", "faults", "kvm", "footprint", "orchestrator", "handoff"];

    public static readonly string Usage =
        $"usage: MemSvc.LoadDriver [--quick] [--transport uds|tcp] [--svg PATH] [--only SUITE[,SUITE...]] [--watchers N[,N...]] (suites: {string.Join(", ", Suites)})";

    /// <summary>Faults resolved remotely (and baseline round-trip pairs), after warm-up.</summary>
    public int ResolutionSamples => Quick ? 300 : 20_000;

    /// <summary>Events in the journal that each watcher replays.</summary>
    public int StreamEvents => Quick ? 10_000 : 200_000;

    /// <summary>Timed repetitions of each throughput measurement; the median is kept.</summary>
    public int StreamRepeats => Quick ? 1 : 5;

    public IReadOnlyList<int> WatcherCounts => Watchers ?? (Quick ? [1, 16] : [1, 2, 4, 8, 16]);

    /// <summary>Another owner's GetVm calls timed idle, then again under one owner's burst of conversions.</summary>
    public int FairnessSamples => Quick ? 300 : 3_000;

    /// <summary>The region each of the bursting owner's conversions covers, in bytes (the probe used 32 GiB: 0.69 s each).</summary>
    public ulong FairnessConversionBytes => Quick ? 1UL << 30 : 4UL << 30;

    public int AttributeRepeats => Quick ? 20 : 200;

    public TimeSpan FaultDecisionDuration => Quick ? TimeSpan.FromMilliseconds(300) : TimeSpan.FromSeconds(3);

    public int KvmExits => Quick ? 20_000 : 200_000;

    /// <summary>Real memory faults resolved on the kvm backend (each also rebinds a slot, a few ms under emulation).</summary>
    public int KvmFaultSamples => Quick ? 20 : 1_000;

    /// <summary>VMs one orchestrator serves at once in the orchestrator row.</summary>
    public int OrchestratorVms => Quick ? 100 : 1_000;

    /// <summary>
    /// Faults each of those VMs raises (one program, every step faulting). Even: a program flips its page private,
    /// shared, ..., and ends shared only after an even count, so that the next run's first step faults too.
    /// </summary>
    public int OrchestratorFaultsPerVm => Quick ? 4 : 20;

    /// <summary>Programs of 250 faulting steps the single VM of the orchestrator row runs, one after another.</summary>
    public int OrchestratorSingleRounds => Quick ? 1 : 8;

    /// <summary>VM counts of the handoff rows (server processes handing off to each other).</summary>
    public IReadOnlyList<int> HandoffVmCounts => Quick ? [1, 100] : [1, 100, 1_000];

    /// <summary>Handoffs at each of those counts; two probe vCPUs sample each.</summary>
    public int HandoffRounds => Quick ? 2 : 10;

    /// <summary>Whether this run includes <paramref name="suite"/> (every suite unless --only narrowed them).</summary>
    public bool Runs(string suite) => Only.Count == 0 || Only.Contains(suite);

    public static DriverOptions? Parse(string[] args)
    {
        var quick = false;
        var transport = Transport.Uds;
        string? svg = null;
        var only = new HashSet<string>(StringComparer.Ordinal);
        List<int>? watchers = null;
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
                case "--only" when i + 1 < args.Length:
                    foreach (var suite in args[++i].Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
                    {
                        if (!Suites.Contains(suite))
                        {
                            return null;
                        }

                        only.Add(suite);
                    }

                    break;
                case "--watchers" when i + 1 < args.Length:
                    watchers = [];
                    foreach (var n in args[++i].Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
                    {
                        if (!int.TryParse(n, System.Globalization.CultureInfo.InvariantCulture, out var count) || count < 1)
                        {
                            return null;
                        }

                        watchers.Add(count);
                    }

                    break;
                default:
                    return null;
            }
        }

        // The plot needs both the latency and the throughput results.
        if (svg is not null && only.Count > 0 && !(only.Contains("fault") && only.Contains("stream")))
        {
            return null;
        }

        return new DriverOptions(quick, transport, svg, only, watchers);
    }
}
