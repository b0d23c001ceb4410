using System.Diagnostics;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;
using MemSvc.Contracts.V1;
using MemSvc.LoadDriver.Baseline;
using MemSvc.LoadDriver.Hosting;
using MemSvc.LoadDriver.Measure;
using MemSvc.LoadDriver.Report;

namespace MemSvc.LoadDriver.Suites;

/// <summary>
/// Remote fault resolution and event delivery. A vCPU (ORCHESTRATOR policy) runs a program whose every step faults
/// (alternating private and shared writes to one page); the driver watches, answers each MemoryFault with a
/// ResolveFault(CONVERT), and reads the times the server stamped on the fault and on the vCPU's return to RUNNING.
/// </summary>
internal sealed class FaultResolutionSuite(BenchServer server, DriverOptions options)
{
    private const string Group = "fault path";
    private const ulong Page = 4096;
    private const int Warmup = 100;

    public async Task<(List<Row> Rows, LatencyResults Results)> RunAsync()
    {
        using var channel = server.Channel(options.Transport);
        var cpu = Process.GetCurrentProcess().TotalProcessorTime;
        var memsvc = await MeasureMemSvcAsync(channel).ConfigureAwait(false);
        var memsvcCpu = (Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalMicroseconds / (options.ResolutionSamples + Warmup);
        Progress.Say($"fault path: {memsvc.Resolve.Count} remote resolutions, event size {memsvc.EventBytes} B; baselines next");
        cpu = Process.GetCurrentProcess().TotalProcessorTime;
        var (roundTrips, singleTrips) = await BareRoundTrips.MeasureAsync(channel, memsvc.EventBytes, options.ResolutionSamples, Warmup).ConfigureAwait(false);
        var bareCpu = (Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalMicroseconds / (options.ResolutionSamples + Warmup);
        var stream = await MeasureStreamDeliveryAsync(channel, memsvc.EventBytes).ConfigureAwait(false);

        var rows = new List<Row>
        {
            Compare("remote resolution p50", memsvc.Resolve.Percentile(50), roundTrips.Percentile(50), 1.5, "2 bare unary RTTs"),
            Compare("remote resolution p99", memsvc.Resolve.Percentile(99), roundTrips.Percentile(99), 3, "2 bare unary RTTs"),
            new Row(Group, "remote resolution p50, split", $"fault→watcher {Format.Micros(memsvc.Deliver.Percentile(50))}, ResolveFault call {Format.Micros(memsvc.Call.Percentile(50))}", $"1 bare unary RTT {Format.Micros(singleTrips.Percentile(50))}", "-", "-", null),
            Compare("ResolveFault call p50", memsvc.Call.Percentile(50), singleTrips.Percentile(50), 1.3, "1 bare unary RTT"),
            new Row(Group, "GetVm call p50 (what every call pays: a read with no work behind it)", Format.Micros(memsvc.Read.Percentile(50)), $"{Format.Micros(singleTrips.Percentile(50))} (1 bare unary RTT)", Format.Ratio(memsvc.Read.Percentile(50) / singleTrips.Percentile(50)), "-", null, Format.AddedMicros(memsvc.Read.Percentile(50) - singleTrips.Percentile(50))),
            // CPU, unlike wall time, hardly moves when other work shares the cores: the cost itself, server and client.
            new Row(Group, "process CPU per remote resolution, server and client", Format.Micros(memsvcCpu), $"{Format.Micros(bareCpu)} (2 bare unary RTTs)", Format.Ratio(memsvcCpu / bareCpu), "-", null, Format.AddedMicros(memsvcCpu - bareCpu)),
            Compare("event delivery p50", memsvc.Deliver.Percentile(50), stream.Percentile(50), 1.5, "1 bare stream message"),
            Compare("event delivery p99", memsvc.Deliver.Percentile(99), stream.Percentile(99), 1.5, "1 bare stream message"),
        };
        return (rows, new LatencyResults(memsvc.Resolve, roundTrips, memsvc.Deliver, stream));
    }

    private static Row Compare(string what, double figure, double baseline, double limit, string baselineName)
    {
        var ratio = figure / baseline;
        return new Row(Group, what, Format.Micros(figure), $"{Format.Micros(baseline)} ({baselineName})", Format.Ratio(ratio), $"≤ {limit}x", ratio <= limit, Format.AddedMicros(figure - baseline));
    }

    private async Task<(Samples Resolve, Samples Deliver, Samples Call, Samples Read, int EventBytes)> MeasureMemSvcAsync(GrpcChannel channel)
    {
        var vms = new VmService.VmServiceClient(channel);
        var memory = new GuestMemoryService.GuestMemoryServiceClient(channel);
        var vcpus = new VcpuService.VcpuServiceClient(channel);
        var events = new EventService.EventServiceClient(channel);
        var vm = (await vms.CreateVmAsync(new CreateVmRequest
        {
            VmId = "bench-resolve",
            Backend = Backend.Simulated,
            VmType = VmType.SwProtected,
            VcpuCount = 1,
            FaultPolicy = FaultPolicy.Orchestrator,
        })).Vm;
        var memfd = (await memory.CreateGuestMemfdAsync(new CreateGuestMemfdRequest { Parent = vm.Name, Size = 2 << 20 })).GuestMemfd;
        var region = new SetMemoryRegionRequest { Parent = vm.Name, Slot = 0, Gpa = 0, Size = 2 << 20, GuestMemfd = memfd.Name };
        region.Flags.Add(MemoryRegionFlag.GuestMemfd);
        await memory.SetMemoryRegionAsync(region);

        var program = new GuestProgram();
        for (var i = 0; i < 255; i++)
        {
            var intent = i % 2 == 0 ? AccessIntent.Private : AccessIntent.Shared;
            program.Steps.Add(new GuestStep { WritePattern = new WritePatternStep { Gpa = Page, Length = Page, Pattern = (uint)i & 0xff, Intent = intent } });
        }

        program.Steps.Add(new GuestStep { Halt = new HaltStep() });
        var vcpu = vm.Name + "/vcpus/0";
        // From the VM's next sequence, not "from now": the call reaches the server asynchronously, and a watch the
        // server opened after the first fault would miss it and leave the vCPU to its resolution timeout.
        var next = (await vms.GetVmAsync(new GetVmRequest { Name = vm.Name })).Vm.LastEventSequence + 1;
        var watch = new WatchEventsRequest { Vm = vm.Name, StartSequence = next, Filter = new EventFilter { Kinds = { EventKind.MemoryFault, EventKind.VcpuStateChanged } } };
        using var stream = events.WatchEvents(watch);

        var resolve = new Samples();
        var deliver = new Samples();
        var call = new Samples();
        var eventBytes = 0;
        var seen = 0;
        while (seen < options.ResolutionSamples + Warmup)
        {
            await vcpus.LoadGuestProgramAsync(new LoadGuestProgramRequest { Name = vcpu, Program = program });
            await vcpus.StartVcpuAsync(new StartVcpuRequest { Name = vcpu });
            DateTime? faultTime = null;
            while (await stream.ResponseStream.MoveNext(CancellationToken.None).ConfigureAwait(false))
            {
                var received = DateTime.UtcNow;
                var evt = stream.ResponseStream.Current.Event;
                if (evt.MemoryFault is { } fault)
                {
                    faultTime = evt.Time.ToDateTime();
                    eventBytes = stream.ResponseStream.Current.CalculateSize();
                    if (seen >= Warmup)
                    {
                        deliver.Add((received - faultTime.Value).TotalMicroseconds);
                    }

                    var sent = Stopwatch.GetTimestamp();
                    await events.ResolveFaultAsync(new ResolveFaultRequest { Vm = vm.Name, FaultId = fault.FaultId, Action = FaultAction.Convert });
                    if (seen >= Warmup)
                    {
                        call.AddElapsed(sent, Stopwatch.GetTimestamp());
                    }
                }
                else if (evt.VcpuStateChanged is { State: VcpuState.Running } && faultTime is { } raised)
                {
                    if (seen++ >= Warmup)
                    {
                        resolve.Add((evt.Time.ToDateTime() - raised).TotalMicroseconds);
                    }

                    faultTime = null;
                }
                else if (evt.VcpuStateChanged is { State: VcpuState.Halted })
                {
                    break;
                }
                else if (evt.VcpuStateChanged is { State: VcpuState.Failed } failed)
                {
                    throw new InvalidOperationException($"the benchmark vCPU failed: {failed.Reason}");
                }
            }
        }

        // A read through the same pipeline (identity, interceptors, tracing) with next to no work behind it: what
        // every call pays before its own work, beside ResolveFault's.
        var read = new Samples();
        for (var i = 0; i < options.ResolutionSamples + Warmup; i++)
        {
            var sent = Stopwatch.GetTimestamp();
            await vms.GetVmAsync(new GetVmRequest { Name = vm.Name });
            if (i >= Warmup)
            {
                read.AddElapsed(sent, Stopwatch.GetTimestamp());
            }
        }

        await vms.DeleteVmAsync(new DeleteVmRequest { Name = vm.Name });
        return (resolve, deliver, call, read, eventBytes);
    }

    // Each message is triggered by a unary Kick and stamped when the Kick arrives, then sent by the waiting stream:
    // the shape of a fault event, which follows the previous ResolveFault and meets an idle stream.
    private async Task<Samples> MeasureStreamDeliveryAsync(GrpcChannel channel, int size)
    {
        var client = new BaselineService.BaselineServiceClient(channel);
        var count = options.ResolutionSamples + Warmup;
        var trigger = new KickRequest { Trigger = "delivery" };
        using var call = client.Stream(new StreamRequest { Count = count, Size = Math.Max(0, size - 14), Trigger = trigger.Trigger });
        if (!await call.ResponseStream.MoveNext(CancellationToken.None).ConfigureAwait(false))
        {
            throw new InvalidOperationException("the triggered stream ended before it was ready");
        }

        var samples = new Samples();
        for (var i = 0; i < count; i++)
        {
            await client.KickAsync(trigger);
            if (!await call.ResponseStream.MoveNext(CancellationToken.None).ConfigureAwait(false))
            {
                throw new InvalidOperationException($"the triggered stream ended after {i} messages");
            }

            var received = DateTime.UtcNow.Ticks;
            if (i >= Warmup)
            {
                samples.Add((received - call.ResponseStream.Current.SentTicks) / 10.0);
            }
        }

        return samples;
    }
}

/// <summary>The latency samples behind the rows, for the plot.</summary>
internal sealed record LatencyResults(Samples Resolve, Samples RoundTrips, Samples Deliver, Samples StreamMessage);
