using System.Diagnostics;
using MemSvc.LoadDriver;
using MemSvc.LoadDriver.Hosting;
using MemSvc.LoadDriver.Measure;
using MemSvc.LoadDriver.Report;
using MemSvc.LoadDriver.Suites;

if (args is [FootprintChild.Flag])
{
    return await FootprintChild.RunAsync().ConfigureAwait(false);
}

if (args is [OrchestratorChild.Flag, ..])
{
    return await OrchestratorChild.RunAsync(args).ConfigureAwait(false);
}

var options = DriverOptions.Parse(args);
if (options is null)
{
    Console.Error.WriteLine(DriverOptions.Usage);
    return 2;
}

var started = Stopwatch.GetTimestamp();
var mode = options.Quick ? "quick" : "full";
var loadBefore = Machine.Load();
Progress.Say($"MemSvc load driver, {mode} mode, transport {options.Transport}, {Machine.Describe()}, load {loadBefore}");
var table = new ResultTable();
LatencyResults? latency = null;
List<ThroughputPoint>? throughput = null;
if (options.Runs("fault") || options.Runs("stream"))
{
    await using var server = await BenchServer.StartAsync(journalRetention: 4 * options.StreamEvents).ConfigureAwait(false);
    if (options.Runs("fault"))
    {
        var (faultRows, faultResults) = await new FaultResolutionSuite(server, options).RunAsync().ConfigureAwait(false);
        table.AddRange(faultRows);
        latency = faultResults;
    }

    if (options.Runs("stream"))
    {
        var (streamRows, points) = await new StreamThroughputSuite(server, options).RunAsync().ConfigureAwait(false);
        table.AddRange(streamRows);
        throughput = points;
    }
}

if (options.Runs("fairness"))
{
    // A server of its own: the burst must not be measured against, or leave anything behind for, the suites above.
    await using var server = await BenchServer.StartAsync(journalRetention: 65_536).ConfigureAwait(false);
    table.AddRange(await new FairnessSuite(server, options).RunAsync().ConfigureAwait(false));
}

if (options.Runs("attributes"))
{
    table.AddRange(new AttributeScaleSuite(options).Run());
}

if (options.Runs("faults"))
{
    table.AddRange(new FaultDecisionSuite(options).Run());
}

if (options.Runs("kvm"))
{
    var (exitRows, probeExitsPerSecond) = new KvmExitLoopSuite(options, ProbeSource()).Run();
    table.AddRange(exitRows);
    table.AddRange(await new KvmFaultSuite(options, probeExitsPerSecond).RunAsync().ConfigureAwait(false));
}

if (options.Runs("footprint"))
{
    table.AddRange(await FootprintSuite.RunAsync().ConfigureAwait(false));
}

if (options.Runs("orchestrator"))
{
    table.AddRange(await new OrchestratorSuite(options).RunAsync().ConfigureAwait(false));
}

if (options.Runs("handoff"))
{
    table.AddRange(await new HandoffSuite(options).RunAsync().ConfigureAwait(false));
}

Console.WriteLine($"MemSvc benchmarks ({mode} mode, {options.Transport} transport); every baseline measured in this run");
Console.WriteLine($"{Machine.Describe()}; load average {loadBefore} at start, {Machine.Load()} at end; {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC");
Console.WriteLine();
Console.Write(table.ToMarkdown());
Progress.Say($"done in {Stopwatch.GetElapsedTime(started).TotalSeconds:F0} s");
if (options.SvgPath is { } svgPath && latency is not null && throughput is not null)
{
    Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(svgPath))!);
    await File.WriteAllTextAsync(svgPath, SvgPlot.Render(latency, throughput, $"MemSvc vs bare grpc-dotnet, {options.Transport} transport, {mode} run")).ConfigureAwait(false);
    Progress.Say($"plot written to {svgPath}");
}

return 0;

// The C baseline (bench/kvm-probe) is copied beside the driver; MEMSVC_KVM_PROBE overrides where.
static string ProbeSource() => Environment.GetEnvironmentVariable("MEMSVC_KVM_PROBE") ?? Path.Combine(AppContext.BaseDirectory, "kvm-probe");
