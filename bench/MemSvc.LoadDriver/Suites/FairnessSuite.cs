using System.Diagnostics;
using Google.Rpc;
using Grpc.Core;
using Grpc.Net.Client;
using MemSvc.Contracts.V1;
using MemSvc.Core.Options;
using MemSvc.LoadDriver.Hosting;
using MemSvc.LoadDriver.Measure;
using MemSvc.LoadDriver.Report;

namespace MemSvc.LoadDriver.Suites;

/// <summary>
/// One owner's burst against another owner's reads (the probe's D2): owner A ("local", over loopback TCP) keeps its
/// whole in-flight limit busy with conversions of a large guest_memfd region, each replaced as soon as it returns
/// (or, when the mutation rate limit refuses it, after the retry_after_ms it is told, as the SDK waits),
/// while owner B (its uid, over the Unix socket) times GetVm on its own VM; B's idle GetVm, measured just before in
/// the same run, is the baseline. The two owners come from the two transports, so the real identity resolver is used.
/// </summary>
internal sealed class FairnessSuite(BenchServer server, DriverOptions options)
{
    private const string Group = "fairness";
    private const double Limit = 2;

    public async Task<List<Row>> RunAsync()
    {
        using var aliceChannel = server.Channel(Transport.Tcp);
        using var bobChannel = server.Channel(Transport.Uds);
        var alice = new Clients(aliceChannel);
        var bob = new Clients(bobChannel);
        var aliceVm = await CreateVmAsync(alice, "fair-alice", options.FairnessConversionBytes).ConfigureAwait(false);
        var bobVm = await CreateVmAsync(bob, "fair-bob", 2 << 20).ConfigureAwait(false);

        await SampleGetVmAsync(bob.Vms, bobVm, options.FairnessSamples / 10).ConfigureAwait(false);
        var idle = await SampleGetVmAsync(bob.Vms, bobVm, options.FairnessSamples).ConfigureAwait(false);

        // A second idle sample right after the first: how far p99 moves with no burst at all on this machine, so
        // that the burst's ratio is read against the noise of the run rather than against 1.
        var idleAgain = await SampleGetVmAsync(bob.Vms, bobVm, options.FairnessSamples).ConfigureAwait(false);

        var inFlight = new QuotaOptions().MaxInFlightRequestsPerOwner;
        using var stop = new CancellationTokenSource();
        var outcomes = new int[3];
        var burst = Enumerable.Range(0, inFlight).Select(i => ConvertUntilStoppedAsync(alice.Memory, aliceVm, i % 2 == 0, outcomes, stop.Token)).ToList();

        // Let the burst fill every one of A's slots (and the queues behind them) before B's clock starts.
        await Task.Delay(TimeSpan.FromSeconds(1)).ConfigureAwait(false);
        var (collections, paused) = (GC.CollectionCount(0), GC.GetTotalPauseDuration());
        var loaded = await SampleGetVmAsync(bob.Vms, bobVm, options.FairnessSamples).ConfigureAwait(false);
        (collections, paused) = (GC.CollectionCount(0) - collections, GC.GetTotalPauseDuration() - paused);
        await stop.CancelAsync().ConfigureAwait(false);
        await Task.WhenAll(burst).ConfigureAwait(false);

        var ratio = loaded.Percentile(99) / idle.Percentile(99);
        var answered = outcomes[0] + outcomes[1];
        Progress.Say($"fairness: B's GetVm p99 {Format.Micros(idle.Percentile(99))} idle, {Format.Micros(loaded.Percentile(99))} under A's burst; A's conversions {outcomes[0]} OK, {outcomes[1]} failed, {outcomes[2]} told to wait by the rate limit");
        return
        [
            new Row(Group, $"another owner's GetVm p99 while one owner converts with {inFlight} calls in flight, as fast as its quota allows", Format.Micros(loaded.Percentile(99)), $"{Format.Micros(idle.Percentile(99))} (its GetVm idle)", Format.Ratio(ratio), $"≤ {Limit}x", ratio <= Limit),
            new Row(Group, "another owner's GetVm p99, idle again (the run's noise, no burst)", Format.Micros(idleAgain.Percentile(99)), $"{Format.Micros(idle.Percentile(99))} (its GetVm idle)", Format.Ratio(idleAgain.Percentile(99) / idle.Percentile(99)), "-", null),
            new Row(Group, "another owner's GetVm p50 under the same burst", Format.Micros(loaded.Percentile(50)), $"{Format.Micros(idle.Percentile(50))} (its GetVm idle)", Format.Ratio(loaded.Percentile(50) / idle.Percentile(50)), "-", null),
            new Row(Group, "GC pauses while B was timed (server and driver share the process)", $"{Format.Count(collections)} collections, {paused.TotalMilliseconds:F0} ms", "none", "-", "-", null),
            new Row(Group, "the bursting owner's conversions answered OK", $"{Format.Count(outcomes[0])} of {Format.Count(answered)}", "none", "-", "all", answered > 0 && outcomes[1] == 0),
        ];
    }

    private static async Task<string> CreateVmAsync(Clients clients, string id, ulong bytes)
    {
        var vm = (await clients.Vms.CreateVmAsync(new CreateVmRequest { VmId = id, Backend = Backend.Simulated, VmType = VmType.SwProtected, VcpuCount = 1 }).ResponseAsync.ConfigureAwait(false)).Vm;
        var memfd = (await clients.Memory.CreateGuestMemfdAsync(new CreateGuestMemfdRequest { Parent = vm.Name, Size = bytes }).ResponseAsync.ConfigureAwait(false)).GuestMemfd;
        var region = new SetMemoryRegionRequest { Parent = vm.Name, Slot = 0, Gpa = 0, Size = bytes, GuestMemfd = memfd.Name };
        region.Flags.Add(MemoryRegionFlag.GuestMemfd);
        await clients.Memory.SetMemoryRegionAsync(region).ResponseAsync.ConfigureAwait(false);
        return vm.Name;
    }

    private static async Task<Samples> SampleGetVmAsync(VmService.VmServiceClient vms, string vm, int count)
    {
        var samples = new Samples();
        for (var i = 0; i < count; i++)
        {
            var start = Stopwatch.GetTimestamp();
            await vms.GetVmAsync(new GetVmRequest { Name = vm }).ResponseAsync.ConfigureAwait(false);
            samples.AddElapsed(start, Stopwatch.GetTimestamp());
        }

        return samples;
    }

    private async Task ConvertUntilStoppedAsync(GuestMemoryService.GuestMemoryServiceClient memory, string vm, bool toPrivate, int[] outcomes, CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            var request = new ConvertMemoryRequest { Vm = vm, Gpa = 0, Size = options.FairnessConversionBytes, Target = toPrivate ? MemoryVisibility.Private : MemoryVisibility.Shared };
            try
            {
                // Not cancelled with the burst: a conversion in flight is let finish and counted.
                await memory.ConvertMemoryAsync(request).ResponseAsync.ConfigureAwait(false);
                Interlocked.Increment(ref outcomes[0]);
            }
            catch (RpcException e) when (RetryAfter(e) is { } delay)
            {
                // The mutation rate limit: A stays within its quota as the SDK would, waiting as long as told.
                Interlocked.Increment(ref outcomes[2]);
                await Task.Delay(delay, CancellationToken.None).ConfigureAwait(false);
                continue;
            }
            catch (RpcException)
            {
                Interlocked.Increment(ref outcomes[1]);
            }

            toPrivate = !toPrivate;
        }
    }

    private static TimeSpan? RetryAfter(RpcException e) =>
        e.StatusCode == StatusCode.ResourceExhausted
        && e.GetRpcStatus()?.GetDetail<ErrorInfo>() is { } info
        && info.Metadata.TryGetValue("retry_after_ms", out var text)
        && long.TryParse(text, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var milliseconds)
            ? TimeSpan.FromMilliseconds(milliseconds)
            : null;

    private sealed class Clients(GrpcChannel channel)
    {
        public VmService.VmServiceClient Vms { get; } = new(channel);

        public GuestMemoryService.GuestMemoryServiceClient Memory { get; } = new(channel);
    }
}
