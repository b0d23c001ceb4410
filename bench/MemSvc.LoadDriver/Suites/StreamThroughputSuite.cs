using System.Diagnostics;
using Grpc.Core;
using Grpc.Net.Client;
using MemSvc.Contracts.V1;
using MemSvc.Core.Identity;

using MemSvc.LoadDriver.Baseline;
using MemSvc.LoadDriver.Hosting;
using MemSvc.LoadDriver.Measure;
using MemSvc.LoadDriver.Report;

namespace MemSvc.LoadDriver.Suites;

/// <summary>
/// Event stream throughput: a journal is filled by guest programs of Report steps, then 1..16 watchers (each on
/// its own connection) replay it from sequence 1 at once. The baseline streams the same number of messages of the
/// same size from the bare service, to the same number of watchers.
/// </summary>
internal sealed class StreamThroughputSuite(BenchServer server, DriverOptions options)
{
    private const string Group = "event stream";
    private const string VmName = "vms/bench-stream";

    // Process CPU time per message (µs) of each timed replay since the last Clear.
    private readonly List<double> _cpu = [];

    public async Task<(List<Row> Rows, List<ThroughputPoint> Points)> RunAsync()
    {
        using var setup = server.Channel(options.Transport);
        await FillJournalAsync(setup).ConfigureAwait(false);
        var (count, size, sample) = await CalibrateAsync(setup).ConfigureAwait(false);
        Progress.Say($"event stream: journal holds {count} events of {size} B on average");
        var bareSample = new StreamMessage { SentTicks = DateTime.UtcNow.Ticks, Payload = Google.Protobuf.ByteString.CopyFrom(new byte[Math.Max(0, size - 14)]) };
        var eventCodec = Codec.RoundTripNanos(sample, WatchEventsResponse.Parser);
        var bareCodec = Codec.RoundTripNanos(bareSample, StreamMessage.Parser);

        var rows = new List<Row>();
        var inProcess = await MedianAsync(() => ReplayInProcessAsync(count)).ConfigureAwait(false);
        rows.Add(new Row(Group, "journal replay in process, no gRPC (where the stream's time goes)", $"{Format.Rate(inProcess)} events", "-", "-", "-", null));
        rows.Add(new Row(Group, "protobuf encode + decode of one message", $"{Format.Nanos(eventCodec)} (event)", $"{Format.Nanos(bareCodec)} (bare message)", Format.Ratio(eventCodec / bareCodec), "-", null));
        var eventAlloc = await AllocatedPerMessageAsync(() => ReplayAsync(1, count), count).ConfigureAwait(false);
        var bareAlloc = await AllocatedPerMessageAsync(() => BareAsync(1, count, size), count).ConfigureAwait(false);
        rows.Add(new Row(Group, "bytes allocated per message, server and client, 1 watcher", $"{Format.Bytes(eventAlloc)} (event)", $"{Format.Bytes(bareAlloc)} (bare message)", Format.Ratio(eventAlloc / bareAlloc), "-", null));
        var points = new List<ThroughputPoint>();
        foreach (var watchers in options.WatcherCounts)
        {
            _cpu.Clear();
            var memsvc = await MedianAsync(() => ReplayAsync(watchers, count)).ConfigureAwait(false);
            var memsvcCpu = Median(_cpu);
            _cpu.Clear();
            var bare = await MedianAsync(() => BareAsync(watchers, count, size)).ConfigureAwait(false);
            var bareCpu = Median(_cpu);
            points.Add(new ThroughputPoint(watchers, memsvc, bare));
            Progress.Say($"event stream: {watchers} watcher(s): {memsvc:F0} events/s, bare {bare:F0} messages/s; CPU {memsvcCpu * 1000:F0} ns per event, bare {bareCpu * 1000:F0} ns per message");
            if (watchers is 1 or 16)
            {
                var plural = watchers == 1 ? "" : "s";
                var fraction = memsvc / bare;
                rows.Add(new Row(Group, $"throughput, {watchers} watcher{plural} ({size} B events)", $"{Format.Rate(memsvc)} events", $"{Format.Rate(bare)} msgs (bare stream)", Format.Percent(fraction), "≥ 80%", fraction >= 0.8));

                // CPU time moves far less than wall time when other work shares the cores: the same comparison, steadier.
                rows.Add(new Row(Group, $"process CPU per message, server and client, {watchers} watcher{plural}", Format.Nanos(memsvcCpu * 1000), $"{Format.Nanos(bareCpu * 1000)} (bare stream)", Format.Ratio(memsvcCpu / bareCpu), "-", null));
            }
        }

        return (rows, points);
    }

    private static double Median(List<double> values)
    {
        var sorted = values.Order().ToList();
        return sorted[sorted.Count / 2];
    }

    private async Task<double> MedianAsync(Func<Task<double>> measure)
    {
        var results = new List<double>();
        for (var i = 0; i < options.StreamRepeats; i++)
        {
            results.Add(await measure().ConfigureAwait(false));
        }

        results.Sort();
        return results[results.Count / 2];
    }

    // Everything the process allocates during one replay (both ends of the stream are in it), per message.
    private static async Task<double> AllocatedPerMessageAsync(Func<Task<double>> replay, int count)
    {
        var before = GC.GetTotalAllocatedBytes(precise: true);
        await replay().ConfigureAwait(false);
        return (double)(GC.GetTotalAllocatedBytes(precise: true) - before) / count;
    }

    private async Task FillJournalAsync(GrpcChannel channel)
    {
        const int vcpuCount = 8;
        var vms = new VmService.VmServiceClient(channel);
        var vcpus = new VcpuService.VcpuServiceClient(channel);
        await vms.CreateVmAsync(new CreateVmRequest { VmId = "bench-stream", Backend = Backend.Simulated, VmType = VmType.Default, VcpuCount = vcpuCount });
        var program = new GuestProgram();
        for (uint i = 0; i < 255; i++)
        {
            program.Steps.Add(new GuestStep { Report = new ReportStep { Value = i } });
        }

        program.Steps.Add(new GuestStep { Halt = new HaltStep() });
        var rounds = (options.StreamEvents / (vcpuCount * 255)) + 1;
        for (var round = 0; round < rounds; round++)
        {
            for (var v = 0; v < vcpuCount; v++)
            {
                await vcpus.LoadGuestProgramAsync(new LoadGuestProgramRequest { Name = $"{VmName}/vcpus/{v}", Program = program });
                await vcpus.StartVcpuAsync(new StartVcpuRequest { Name = $"{VmName}/vcpus/{v}" });
            }

            for (var v = 0; v < vcpuCount; v++)
            {
                while ((await vcpus.GetVcpuAsync(new GetVcpuRequest { Name = $"{VmName}/vcpus/{v}" })).Vcpu.State != VcpuState.Halted)
                {
                    await Task.Delay(1).ConfigureAwait(false);
                }
            }
        }
    }

    // Reads the whole journal once (until it stays quiet): how many events a replay must read, and their mean size.
    private static async Task<(int Count, int Size, WatchEventsResponse Sample)> CalibrateAsync(GrpcChannel channel)
    {
        var events = new EventService.EventServiceClient(channel);
        using var quiet = new CancellationTokenSource();
        using var call = events.WatchEvents(new WatchEventsRequest { Vm = VmName, StartSequence = 1 }, cancellationToken: quiet.Token);
        var count = 0;
        long bytes = 0;
        WatchEventsResponse? sample = null;
        try
        {
            while (true)
            {
                quiet.CancelAfter(TimeSpan.FromMilliseconds(500));
                if (!await call.ResponseStream.MoveNext(quiet.Token).ConfigureAwait(false))
                {
                    break;
                }

                count++;
                var current = call.ResponseStream.Current;
                bytes += current.CalculateSize();

                // The codec sample is the commonest event here, a guest report.
                if (current.Event.GuestReport is not null)
                {
                    sample = current;
                }
            }
        }
        catch (RpcException e) when (e.StatusCode == StatusCode.Cancelled)
        {
        }

        return sample is null
            ? throw new InvalidOperationException("the benchmark journal is empty")
            : (count, (int)(bytes / count), sample);
    }

    // The Core half of a watch (journal, ring copies, filter) without gRPC or mapping: what the stream could reach.
    private async Task<double> ReplayInProcessAsync(int count)
    {
        var manager = server.Services.GetRequiredService<MemSvc.Core.Vms.VmManager>();
        using var done = new CancellationTokenSource();
        var start = Stopwatch.GetTimestamp();
        var read = 0;
        await foreach (var _ in manager.Events.WatchEvents(new CallerIdentity("bench", IsAdmin: true), "bench-stream", 1, cancellationToken: done.Token).ConfigureAwait(false))
        {
            if (++read == count)
            {
                break;
            }
        }

        return count / Stopwatch.GetElapsedTime(start).TotalSeconds;
    }

    private Task<double> ReplayAsync(int watchers, int count) => AcrossWatchersAsync(watchers, count, async channel =>
    {
        var events = new EventService.EventServiceClient(channel);
        using var done = new CancellationTokenSource();
        using var call = events.WatchEvents(new WatchEventsRequest { Vm = VmName, StartSequence = 1 }, cancellationToken: done.Token);
        for (var read = 0; read < count; read++)
        {
            if (!await call.ResponseStream.MoveNext(CancellationToken.None).ConfigureAwait(false))
            {
                throw new InvalidOperationException($"the watch ended after {read} of {count} events");
            }
        }

        // The watch is endless: the replay is over once the journal's events are read.
        await done.CancelAsync().ConfigureAwait(false);
    });

    private Task<double> BareAsync(int watchers, int count, int size) => AcrossWatchersAsync(watchers, count, async channel =>
    {
        var client = new BaselineService.BaselineServiceClient(channel);
        using var call = client.Stream(new StreamRequest { Count = count, Size = Math.Max(0, size - 14) });
        var read = 0;
        while (await call.ResponseStream.MoveNext(CancellationToken.None).ConfigureAwait(false))
        {
            read++;
        }

        if (read != count)
        {
            throw new InvalidOperationException($"the bare stream ended after {read} of {count} messages");
        }
    });

    // Messages per second over all watchers, each on its own connection, from the first call to the last message.
    private async Task<double> AcrossWatchersAsync(int watchers, int count, Func<GrpcChannel, Task> watch)
    {
        var channels = Enumerable.Range(0, watchers).Select(_ => server.Channel(options.Transport)).ToList();
        try
        {
            // Connect first (one small call each), so that connection set-up is not timed.
            await Task.WhenAll(channels.Select(c => new BaselineService.BaselineServiceClient(c).EchoAsync(new EchoMessage()).ResponseAsync)).ConfigureAwait(false);
            var cpu = Process.GetCurrentProcess().TotalProcessorTime;
            var start = Stopwatch.GetTimestamp();
            await Task.WhenAll(channels.Select(c => Task.Run(() => watch(c)))).ConfigureAwait(false);
            var elapsed = Stopwatch.GetElapsedTime(start);
            _cpu.Add((Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalMicroseconds / ((double)watchers * count));
            return (double)watchers * count / elapsed.TotalSeconds;
        }
        finally
        {
            foreach (var channel in channels)
            {
                channel.Dispose();
            }
        }
    }
}

/// <summary>Aggregate messages per second at one watcher count, MemSvc and bare, for the plot.</summary>
internal sealed record ThroughputPoint(int Watchers, double MemSvc, double Bare);
