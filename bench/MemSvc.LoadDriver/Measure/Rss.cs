using System.Globalization;

namespace MemSvc.LoadDriver.Measure;

/// <summary>Resident set size as the kernel counts it (/proc/{pid}/status VmRSS), in bytes.</summary>
internal static class Rss
{
    public static long OfSelf() => Of("self");

    /// <summary>The highest RSS the process has had (VmHWM).</summary>
    public static long PeakOfSelf() => Of("self", "VmHWM:");

    public static long Of(string pid, string field = "VmRSS:")
    {
        foreach (var line in File.ReadLines($"/proc/{pid}/status"))
        {
            if (line.StartsWith(field, StringComparison.Ordinal))
            {
                var kib = line[field.Length..].Trim().Split(' ')[0];
                return long.Parse(kib, CultureInfo.InvariantCulture) * 1024;
            }
        }

        throw new InvalidOperationException($"/proc/{pid}/status has no {field} line");
    }
}
