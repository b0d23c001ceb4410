using System.Globalization;
using System.Text.RegularExpressions;

namespace MemSvc.LoadDriver.Suites;

/// <summary>
/// The pause a new server reports once it runs the vCPUs it took over: from the old server's first step of stopping
/// them to the new one starting them (both wall clocks of this host), parsed from its log line.
/// </summary>
internal sealed partial record ReportedPause(double Micros, DateTime FrozenAt, DateTime ThawedAt)
{
    public static ReportedPause Parse(string line)
    {
        var match = Line().Match(line);
        if (!match.Success)
        {
            throw new FormatException($"not a pause the server reported: {line}");
        }

        var today = DateTime.UtcNow.Date;
        DateTime At(Group time) => today + TimeSpan.ParseExact(time.Value, @"hh\:mm\:ss\.ffffff", CultureInfo.InvariantCulture);
        return new ReportedPause(double.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture) * 1000, At(match.Groups[2]), At(match.Groups[3]));
    }

    [GeneratedRegex(@"vCPUs were paused ([0-9.]+) ms, from ([0-9:.]+) to ([0-9:.]+) UTC")]
    private static partial Regex Line();
}
