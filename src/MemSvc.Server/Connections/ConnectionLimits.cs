using System.Globalization;

namespace MemSvc.Server.Connections;

/// <summary>
/// The connection budget in numbers, settled once at start-up from <see cref="ConnectionOptions"/> and the
/// open-file limit L:
/// <list type="bullet">
/// <item>reserved = ReservedFds, else max(512, L / 2): the runtime alone holds ~250 descriptors (two per loaded
/// assembly), and the kvm backend needs one per VM, vCPU and guest_memfd;</item>
/// <item>total = MaxTotal, else min(4096, L - reserved - RefusalSlots);</item>
/// <item>per listener = MaxPerListener, else ceil(3/4 total); the health and Prometheus ports at most 64;</item>
/// <item>per peer = MaxPerPeer, else min(256, per listener).</item>
/// </list>
/// Connections, refused ones included, then never take more than L - reserved descriptors.
/// </summary>
internal sealed record ConnectionLimits(long OpenFiles, int Reserved, int Total, int PerListener, int PerProbeListener, int PerPeer, int RefusalSlots)
{
    public const int DefaultMaxTotal = 4096;
    public const int DefaultMaxPerPeer = 256;
    public const int ProbeListenerCap = 64;
    public const int MinReserved = 512;

    public static ConnectionLimits Resolve(ConnectionOptions options, long openFiles)
    {
        var reserved = options.ReservedFds ?? (int)Math.Min(int.MaxValue, Math.Max(MinReserved, openFiles / 2));
        var total = options.MaxTotal ?? (int)Math.Clamp(openFiles - reserved - options.RefusalSlots, 0, DefaultMaxTotal);
        var perListener = options.MaxPerListener ?? Math.Max(1, (int)Math.Ceiling(total * 0.75));
        var perPeer = options.MaxPerPeer ?? Math.Min(DefaultMaxPerPeer, perListener);
        return new ConnectionLimits(openFiles, reserved, total, perListener, Math.Min(perListener, ProbeListenerCap), perPeer, options.RefusalSlots);
    }

    /// <summary>Why these limits cannot work, for start-up validation; empty when they can.</summary>
    public static List<string> Problems(ConnectionOptions options, long openFiles)
    {
        var failures = new List<string>();
        if (options.MaxTotal < 1 || options.MaxPerListener < 1 || options.MaxPerPeer < 1 || options.ReservedFds < 0 || options.RefusalSlots < 0)
        {
            failures.Add("MemSvc:Connections: MaxTotal, MaxPerListener and MaxPerPeer must each be at least 1; ReservedFds and RefusalSlots at least 0.");
            return failures;
        }

        if (options.MaxStreamsPerConnection < 1)
        {
            failures.Add($"MemSvc:Connections:MaxStreamsPerConnection must be at least 1, not {options.MaxStreamsPerConnection}.");
        }

        foreach (var (name, value) in new[]
        {
            ("RefusalGrace", options.RefusalGrace), ("KeepAlivePingDelay", options.KeepAlivePingDelay), ("KeepAlivePingTimeout", options.KeepAlivePingTimeout),
            ("IdleTimeout", options.IdleTimeout), ("RequestHeadersTimeout", options.RequestHeadersTimeout),
        })
        {
            if (value <= TimeSpan.Zero)
            {
                failures.Add($"MemSvc:Connections:{name} must be more than 0, not {value}.");
            }
        }

        // The one rule that keeps a flood from reaching the runtime's own descriptors: connections held and
        // connections being refused fit beside the reserve.
        var limits = Resolve(options, openFiles);
        var needed = (long)limits.Total + limits.RefusalSlots + limits.Reserved;
        if (limits.Total < 1 || needed > openFiles)
        {
            failures.Add(string.Create(
                CultureInfo.InvariantCulture,
                $"MemSvc:Connections: {limits.Total} connections + {limits.RefusalSlots} refusal slots + {limits.Reserved} reserved descriptors need {needed} open files, but the process may open {openFiles}; raise the open-file limit (systemd: LimitNOFILE) or lower MaxTotal or ReservedFds."));
        }

        return failures;
    }
}
