using System.Globalization;

namespace MemSvc.LoadDriver.Measure;

/// <summary>Resident set size as the kernel counts it (/proc/{pid}/status VmRSS), in bytes.</summary>
internal static class Rss
{
    public static long OfSelf() => Of("self");

    public static long Of(string pid)
    {
        foreach (var line in File.ReadLines($"/proc/{pid}/status"))
        {
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
            {
                var kib = line["VmRSS:".Length..].Trim().Split(' ')[0];
                return long.Parse(kib, CultureInfo.InvariantCulture) * 1024;
            }
        }

        throw new InvalidOperationException($"/proc/{pid}/status has no VmRSS line");
    }
}
