using System.Diagnostics;
using MemSvc.LoadDriver.Hosting;
using MemSvc.LoadDriver.Measure;
using MemSvc.LoadDriver.Report;

namespace MemSvc.LoadDriver.Suites;

/// <summary>
/// Remote fault resolution and event delivery (<see cref="ResolutionLoop"/>) against their bare baselines
/// (<see cref="BareRoundTrips"/>, <see cref="TriggeredStream"/>), on one channel. Every side is warmed up until the
/// JIT has settled (<see cref="JitSettle"/>), then the sides are measured in turn, round after round, so that
/// whatever else the machine does in the meantime falls on MemSvc and its baselines alike.
/// </summary>
internal sealed class FaultResolutionSuite(BenchServer server, DriverOptions options)
{
    private const string Group = "fault path";
    private const int Warmup = 100;

    private int Rounds => options.Quick ? 3 : 10;

    public async Task<(List<Row> Rows, LatencyResults Results)> RunAsync()
    {
        using var channel = server.Channel(options.Transport);
        await using var memsvc = await ResolutionLoop.StartAsync(channel).ConfigureAwait(false);
        await memsvc.RunAsync(Warmup, record: false).ConfigureAwait(false);
        var bare = new BareRoundTrips(channel, memsvc.EventBytes);
        using var stream = await TriggeredStream.StartAsync(channel, memsvc.EventBytes).ConfigureAwait(false);

        var settle = await JitSettle.WaitAsync(
            async () =>
            {
                await memsvc.RunAsync(Warmup, record: false).ConfigureAwait(false);
                await memsvc.ReadAsync(Warmup, record: false).ConfigureAwait(false);
                await bare.RunAsync(Warmup, record: false).ConfigureAwait(false);
                await stream.RunAsync(Warmup, record: false).ConfigureAwait(false);
            },
            quietFor: TimeSpan.FromSeconds(options.Quick ? 0.2 : 1),
            atMost: TimeSpan.FromSeconds(options.Quick ? 3 : 30)).ConfigureAwait(false);
        var warmedUp = $"{settle.Took.TotalSeconds:F1} s, {Format.Count(settle.Compiled)} methods compiled{(settle.Settled ? "" : ", the JIT still busy")}";
        Progress.Say($"fault path: warmed up in {warmedUp}; {Rounds} rounds of MemSvc and its baselines next");

        using var spans = new ServerSpans();
        var perRound = options.ResolutionSamples / Rounds;
        TimeSpan memsvcCpu = default, bareCpu = default;
        var resolved = 0;
        for (var round = 0; round < Rounds; round++)
        {
            spans.Recording = true;
            var cpu = ProcessCpu();
            resolved += await memsvc.RunAsync(perRound, record: true).ConfigureAwait(false);
            memsvcCpu += ProcessCpu() - cpu;
            await memsvc.ReadAsync(perRound, record: true).ConfigureAwait(false);
            cpu = ProcessCpu();
            await bare.RunAsync(perRound, record: true).ConfigureAwait(false);
            bareCpu += ProcessCpu() - cpu;
            spans.Recording = false;
            await stream.RunAsync(perRound, record: true).ConfigureAwait(false);
        }

        Progress.Say($"fault path: {resolved} remote resolutions, event size {memsvc.EventBytes} B");
        var memsvcCpuEach = memsvcCpu.TotalMicroseconds / resolved;
        var bareCpuEach = bareCpu.TotalMicroseconds / bare.Pairs.Count;
        var single = bare.Singles.Percentile(50);
        var rows = new List<Row>
        {
            new(Group, "warm-up before measuring: until no method was compiled for 1 s", warmedUp, "-", "-", "-", null),
            Compare("remote resolution p50", memsvc.Resolve.Percentile(50), bare.Pairs.Percentile(50), 1.5, "2 bare unary RTTs"),
            Compare("remote resolution p99", memsvc.Resolve.Percentile(99), bare.Pairs.Percentile(99), 3, "2 bare unary RTTs"),
            new(Group, "remote resolution p50, split", $"fault→watcher {Format.Micros(memsvc.Deliver.Percentile(50))}, ResolveFault call {Format.Micros(memsvc.Call.Percentile(50))}", $"1 bare unary RTT {Format.Micros(single)}", "-", "-", null),
            Compare("ResolveFault call p50", memsvc.Call.Percentile(50), single, 1.3, "1 bare unary RTT"),
            new(Group, "GetVm call p50 (what every call pays: a read with no work behind it)", Format.Micros(memsvc.Read.Percentile(50)), $"{Format.Micros(single)} (1 bare unary RTT)", Format.Ratio(memsvc.Read.Percentile(50) / single), "-", null, Format.AddedMicros(memsvc.Read.Percentile(50) - single)),
            ServerSplit(spans),
            PipelineSplit(spans),
            // CPU, unlike wall time, hardly moves when other work shares the cores: the cost itself, server and client.
            new(Group, "process CPU per remote resolution, server and client", Format.Micros(memsvcCpuEach), $"{Format.Micros(bareCpuEach)} (2 bare unary RTTs)", Format.Ratio(memsvcCpuEach / bareCpuEach), "-", null, Format.AddedMicros(memsvcCpuEach - bareCpuEach)),
            Compare("event delivery p50", memsvc.Deliver.Percentile(50), stream.Deliver.Percentile(50), 1.3, "1 bare stream message"),
            Compare("event delivery p99", memsvc.Deliver.Percentile(99), stream.Deliver.Percentile(99), 2, "1 bare stream message"),
        };
        return (rows, new LatencyResults(memsvc.Resolve, bare.Pairs, memsvc.Deliver, stream.Deliver));
    }

    // The server's share of the call: its request span against GetVm's, which runs the same pipeline with no work
    // behind it, and the resolution's own steps inside it.
    private static Row ServerSplit(ServerSpans spans)
    {
        var resolveFault = spans.Of("ResolveFault").Percentile(50);
        var getVm = spans.Of("GetVm").Percentile(50);
        var steps = $"of which the resolution {Format.Micros(spans.Of("memsvc.core.resolve_fault").Percentile(50))}, its conversion {Format.Micros(spans.Of("memsvc.core.convert").Percentile(50))}";
        return new Row(Group, $"server time per request p50 (request span in Kestrel), ResolveFault; {steps}", Format.Micros(resolveFault), $"{Format.Micros(getVm)} (GetVm)", Format.Ratio(resolveFault / getVm), "-", null, Format.AddedMicros(resolveFault - getVm));
    }

    // What every call pays on the server: GetVm's request span (MemSvc's middlewares, identity, interceptors, a read)
    // against the bare echo's on the same Kestrel, which has none of them.
    private static Row PipelineSplit(ServerSpans spans)
    {
        var getVm = spans.Of("GetVm").Percentile(50);
        var echo = spans.Of("Echo").Percentile(50);
        return new Row(Group, "server time per request p50 (request span in Kestrel), GetVm", Format.Micros(getVm), $"{Format.Micros(echo)} (bare echo)", Format.Ratio(getVm / echo), "-", null, Format.AddedMicros(getVm - echo));
    }

    private static TimeSpan ProcessCpu() => Process.GetCurrentProcess().TotalProcessorTime;

    private static Row Compare(string what, double figure, double baseline, double limit, string baselineName)
    {
        var ratio = figure / baseline;
        return new Row(Group, what, Format.Micros(figure), $"{Format.Micros(baseline)} ({baselineName})", Format.Ratio(ratio), $"≤ {limit}x", ratio <= limit, Format.AddedMicros(figure - baseline));
    }
}

/// <summary>The latency samples behind the rows, for the plot.</summary>
internal sealed record LatencyResults(Samples Resolve, Samples RoundTrips, Samples Deliver, Samples StreamMessage);
