using System.Diagnostics;
using System.Globalization;
using MemSvc.LoadDriver.Measure;
using MemSvc.LoadDriver.Report;

namespace MemSvc.LoadDriver.Suites;

/// <summary>
/// Server RSS idle, with 100 and with 1,000 simulated VMs of a 1 GiB guest_memfd each, measured in a separate
/// process (<see cref="FootprintChild"/>) so that the driver's own memory is not counted.
/// </summary>
internal static class FootprintSuite
{
    private const string Group = "footprint";

    public static async Task<List<Row>> RunAsync()
    {
        var start = new ProcessStartInfo(Environment.ProcessPath!) { RedirectStandardOutput = true };
        if (Path.GetFileNameWithoutExtension(Environment.ProcessPath) == "dotnet")
        {
            // Started as `dotnet MemSvc.LoadDriver.dll`: the child is started the same way.
            start.ArgumentList.Add(typeof(FootprintSuite).Assembly.Location);
        }

        start.ArgumentList.Add(FootprintChild.Flag);
        using var process = Process.Start(start) ?? throw new InvalidOperationException("the footprint process did not start");
        var rss = new Dictionary<int, long>();
        while (await process.StandardOutput.ReadLineAsync().ConfigureAwait(false) is { } line)
        {
            var parts = line.Split(' ');
            if (parts is ["rss", var vms, var bytes])
            {
                rss[int.Parse(vms, CultureInfo.InvariantCulture)] = long.Parse(bytes, CultureInfo.InvariantCulture);
                Progress.Say($"footprint: {vms} VMs, RSS {Format.Bytes(rss[int.Parse(vms, CultureInfo.InvariantCulture)])}");
            }
        }

        await process.WaitForExitAsync().ConfigureAwait(false);
        if (process.ExitCode != 0 || rss.Count != FootprintChild.VmCounts.Length)
        {
            throw new InvalidOperationException($"the footprint process exited {process.ExitCode} after {rss.Count} measurements");
        }

        var perVm = (rss[1_000] - rss[100]) / 900.0;
        return
        [
            new Row(Group, "server RSS, idle", Format.Bytes(rss[0]), "none", "-", "-", null),
            new Row(Group, "server RSS, 100 VMs (1 GiB guest_memfd each)", Format.Bytes(rss[100]), "none", "-", "-", null),
            new Row(Group, "server RSS, 1,000 VMs (1 GiB guest_memfd each)", Format.Bytes(rss[1_000]), "none", "-", "-", null),
            new Row(Group, "per-VM overhead ((1,000 - 100 VMs) / 900)", Format.Bytes(perVm), "none", "-", "< 256 KiB", perVm < 256 * 1024),
        ];
    }
}
