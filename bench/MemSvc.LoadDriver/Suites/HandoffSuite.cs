using System.Diagnostics;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;
using MemSvc.Contracts.V1;
using MemSvc.LoadDriver.Hosting;
using MemSvc.LoadDriver.Measure;
using MemSvc.LoadDriver.Report;

namespace MemSvc.LoadDriver.Suites;

/// <summary>
/// Issue 16's handoff rows: server processes on one socket, N simulated VMs (each with a 1-vCPU, a guest_memfd
/// bound to a memslot and a page written), repeated handoffs to a new process, and two probe VMs (the first and the
/// middle one; one with 1 VM) whose vCPUs run through them: the vCPU pause (p50, p99, max over probes and handoffs)
/// and the gap a watching client sees. The other VMs' vCPUs are idle: on 2 cores 1,000 running vCPUs would measure
/// the scheduler, not the handoff.
/// </summary>
internal sealed class HandoffSuite(DriverOptions options)
{
    private const string Group = "handoff";
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(120);
    private static readonly TimeSpan Settle = TimeSpan.FromMilliseconds(400);

    public async Task<List<Row>> RunAsync()
    {
        var rows = new List<Row>();
        foreach (var count in options.HandoffVmCounts)
        {
            var (pauses, seen, gaps, switches) = await MeasureAsync(count).ConfigureAwait(false);
            var label = count == 1 ? "1 VM" : $"{Format.Count(count)} VMs";
            var goal = count == 100 ? "p99 < 50 ms" : "-";
            bool? met = count == 100 && pauses.Count > 0 ? pauses.Percentile(99) < 50_000 : null;
            rows.Add(new Row(Group, $"vCPU pause during a handoff, {label}: freeze to run, by the new server ({pauses.Count} handoffs)", Spread(pauses), "none", "-", goal, met));
            rows.Add(new Row(Group, $"the same pause as a guest sees it, {label}: report gap over it less the median ({seen.Count} samples)", Spread(seen), "none", "-", "-", null));
            rows.Add(new Row(Group, $"watch gap seen by a client, {label} ({gaps.Count} samples)", Spread(gaps), "none", "-", "-", null));
            rows.Add(new Row(Group, $"new process start to serving, {label} ({switches.Count} handoffs)", Spread(switches), "none", "-", "-", null));
        }

        return rows;
    }

    private static string Spread(Samples samples) => samples.Count == 0
        ? "no sample"
        : $"p50 {Format.Micros(samples.Percentile(50))}, p99 {Format.Micros(samples.Percentile(99))}, max {Format.Micros(samples.Percentile(100))}";

    private async Task<(Samples Pauses, Samples Seen, Samples Gaps, Samples Switches)> MeasureAsync(int count)
    {
        var directory = Directory.CreateTempSubdirectory("memsvc-bench-handoff-").FullName;
        var socket = ServerProcess.SocketPath(directory);
        var server = ServerProcess.Start(directory, takeOver: false);
        using var channel = ServerProcess.Channel(socket);
        var (pauses, seen, gaps, switches) = (new Samples(), new Samples(), new Samples(), new Samples());
        using var stop = new CancellationTokenSource();
        var probes = new List<HandoffProbe>();
        var channels = new List<GrpcChannel>();
        Task running = Task.CompletedTask;
        try
        {
            var instance = await ServingAsync(channel, previous: null).ConfigureAwait(false);
            var probeIndexes = count == 1 ? new[] { 0 } : [0, count / 2];
            await CreateVmsAsync(channel, count, probeIndexes).ConfigureAwait(false);
            Progress.Say($"handoff: {count} VMs created; {options.HandoffRounds} handoffs");
            foreach (var index in probeIndexes)
            {
                var probe = new HandoffProbe($"vms/bench-{index:0000}");
                probes.Add(probe);
                channels.Add(ServerProcess.Channel(socket));
            }

            running = Task.WhenAll(probes.Select((p, i) => p.RunAsync(channels[i], channel, stop.Token)));
            for (var round = 0; round < options.HandoffRounds; round++)
            {
                await Task.Delay(Settle).ConfigureAwait(false);
                var from = Stopwatch.GetTimestamp();
                var next = ServerProcess.Start(directory, takeOver: true);
                var exit = await server.ExitCodeAsync(Patience).ConfigureAwait(false);
                if (exit != 0)
                {
                    throw new InvalidOperationException($"the old server exited {exit}, not 0 after handing off");
                }

                instance = await ServingAsync(channel, instance).ConfigureAwait(false);
                switches.AddElapsed(from, Stopwatch.GetTimestamp());
                var pause = ReportedPause.Parse(await next.TookOverLine.WaitAsync(Patience).ConfigureAwait(false));
                pauses.Add(pause.Micros);
                await server.DisposeAsync().ConfigureAwait(false);
                server = next;
                await Task.Delay(Settle).ConfigureAwait(false);
                var to = Stopwatch.GetTimestamp();
                foreach (var probe in probes)
                {
                    if (probe.PauseMicros(from, to, pause.FrozenAt, pause.ThawedAt) is { } guestSaw)
                    {
                        seen.Add(guestSaw);
                    }

                    if (probe.WatchGapMicros(from, to) is { } gap)
                    {
                        gaps.Add(gap);
                    }
                }
            }
        }
        finally
        {
            await stop.CancelAsync().ConfigureAwait(false);
            await running.ConfigureAwait(false);
            channels.ForEach(c => c.Dispose());
            await server.DisposeAsync().ConfigureAwait(false);
            Directory.Delete(directory, recursive: true);
        }

        Progress.Say($"handoff: {count} VMs: pause {Spread(pauses)}, as a guest sees it {Spread(seen)}; watch gap {Spread(gaps)}");
        return (pauses, seen, gaps, switches);
    }

    private static async Task CreateVmsAsync(GrpcChannel channel, int count, int[] probes)
    {
        var vms = new VmService.VmServiceClient(channel);
        var memory = new GuestMemoryService.GuestMemoryServiceClient(channel);
        var page = ByteString.CopyFrom(Enumerable.Repeat((byte)0x5a, 4096).ToArray());

        // A few at a time: the per-owner in-flight limit is 64.
        await Parallel.ForAsync(0, count, new ParallelOptions { MaxDegreeOfParallelism = 16 }, async (i, ct) =>
        {
            var size = probes.Contains(i) ? 2 * HandoffProbe.WriteBytes : 8UL << 20;
            var vm = (await vms.CreateVmAsync(new CreateVmRequest { VmId = $"bench-{i:0000}", Backend = Backend.Simulated, VmType = VmType.SwProtected, VcpuCount = 1 }, cancellationToken: ct).ConfigureAwait(false)).Vm;
            var memfd = (await memory.CreateGuestMemfdAsync(new CreateGuestMemfdRequest { Parent = vm.Name, Size = size }, cancellationToken: ct).ConfigureAwait(false)).GuestMemfd;
            var region = new SetMemoryRegionRequest { Parent = vm.Name, Slot = 0, Gpa = 0, Size = size, GuestMemfd = memfd.Name, GuestMemfdOffset = 0 };
            region.Flags.Add(MemoryRegionFlag.GuestMemfd);
            await memory.SetMemoryRegionAsync(region, cancellationToken: ct).ConfigureAwait(false);
            await memory.WriteGuestMemoryAsync(new WriteGuestMemoryRequest { Vm = vm.Name, Gpa = 1 << 20, Data = page }, cancellationToken: ct).ConfigureAwait(false);
        }).ConfigureAwait(false);
    }

    // The server on the socket once it answers as another instance than `previous` (a new process has taken over).
    private static async Task<string> ServingAsync(GrpcChannel channel, string? previous)
    {
        var host = new HostService.HostServiceClient(channel);
        var started = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                var info = await host.GetHostInfoAsync(new GetHostInfoRequest(), deadline: DateTime.UtcNow.AddSeconds(2)).ConfigureAwait(false);
                if (info.InstanceId != previous)
                {
                    return info.InstanceId;
                }
            }
            catch (RpcException) when (started.Elapsed < Patience)
            {
                // Not listening yet, or handing off.
            }

            if (started.Elapsed > Patience)
            {
                throw new TimeoutException($"no new server answered within {Patience}");
            }

            await Task.Delay(2).ConfigureAwait(false);
        }
    }
}
