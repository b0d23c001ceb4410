using System.Globalization;

namespace MemSvc.LoadDriver.Report;

/// <summary>Number formats the table uses, invariant so that every run prints alike.</summary>
internal static class Format
{
    public static string Micros(double us) => us >= 1000
        ? (us / 1000).ToString("F2", CultureInfo.InvariantCulture) + " ms"
        : us.ToString(us >= 100 ? "F0" : "F1", CultureInfo.InvariantCulture) + " µs";

    public static string Nanos(double ns) => ns >= 1000 ? Micros(ns / 1000) : ns.ToString("F0", CultureInfo.InvariantCulture) + " ns";

    public static string Rate(double perSecond) => perSecond >= 1e6
        ? (perSecond / 1e6).ToString("F2", CultureInfo.InvariantCulture) + " M/s"
        : (perSecond / 1e3).ToString("F1", CultureInfo.InvariantCulture) + " k/s";

    public static string Bytes(double bytes) => bytes switch
    {
        >= 1 << 30 => (bytes / (1 << 30)).ToString("F2", CultureInfo.InvariantCulture) + " GiB",
        >= 1 << 20 => (bytes / (1 << 20)).ToString("F1", CultureInfo.InvariantCulture) + " MiB",
        >= 1 << 10 => (bytes / (1 << 10)).ToString("F1", CultureInfo.InvariantCulture) + " KiB",
        _ => bytes.ToString("F0", CultureInfo.InvariantCulture) + " B",
    };

    /// <summary>A signed latency difference: "+130 µs", "-4 µs".</summary>
    public static string AddedMicros(double us) => (us >= 0 ? "+" : "-") + Micros(Math.Abs(us));

    public static string Ratio(double ratio) => ratio.ToString("F2", CultureInfo.InvariantCulture) + "x";

    public static string Percent(double fraction) => (fraction * 100).ToString("F0", CultureInfo.InvariantCulture) + "%";

    public static string Count(long n) => n.ToString("N0", CultureInfo.InvariantCulture);
}
