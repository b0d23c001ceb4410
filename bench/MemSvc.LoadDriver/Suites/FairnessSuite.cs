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
    private const int Rounds = 5;
    private static readonly TimeSpan FillTime = TimeSpan.FromMilliseconds(300);

    public async Task<List<Row>> RunAsync()
    {
        using var aliceChannel = server.Channel(Transport.Tcp);
        using var bobChannel = server.Channel(Transport.Uds);
        var alice = new Clients(aliceChannel);
        var bob = new Clients(bobChannel);
        var aliceVm = await CreateVmAsync(alice, "fair-alice", options.FairnessConversionBytes).ConfigureAwait(false);
        var bobVm = await CreateVmAsync(bob, "fair-bob", 2 << 20).ConfigureAwait(false);

        // Warm-up: the first idle samples pay for JIT and the first connection's buffers.
        await SampleGetVmAsync(bob.Vms, bobVm, options.FairnessSamples / 2).ConfigureAwait(false);

        // Idle and loaded phases alternate, and each percentile is taken over all rounds of its kind: on a shared
        // machine the other load drifts over seconds, and one idle phase before one loaded phase would read that
        // drift as the burst's effect (or hide it).
        var inFlight = new QuotaOptions().MaxInFlightRequestsPerOwner;
        var (idle, loaded, idleByRound) = (new Samples(), new Samples(), new List<double>());
        var burst = new Burst();
        var (collections, paused) = (0, TimeSpan.Zero);
        var loops = Enumerable.Range(0, inFlight).Select(i => ConvertUntilStoppedAsync(alice.Memory, aliceVm, i % 2 == 0, burst)).ToList();
        for (var round = 0; round < Rounds; round++)
        {
            await burst.PauseAsync().ConfigureAwait(false);
            var idleRound = await SampleGetVmAsync(bob.Vms, bobVm, options.FairnessSamples / Rounds).ConfigureAwait(false);
            idle.AddAll(idleRound);
            idleByRound.Add(idleRound.Percentile(99));

            burst.Resume();

            // Let the burst fill every one of A's slots (and the queues behind them) before B's clock starts.
            await Task.Delay(FillTime).ConfigureAwait(false);
            var (gen0, pause) = (GC.CollectionCount(0), GC.GetTotalPauseDuration());
            loaded.AddAll(await SampleGetVmAsync(bob.Vms, bobVm, options.FairnessSamples / Rounds).ConfigureAwait(false));
            (collections, paused) = (collections + GC.CollectionCount(0) - gen0, paused + GC.GetTotalPauseDuration() - pause);
        }

        burst.Stop();
        await Task.WhenAll(loops).ConfigureAwait(false);
        var (ok, failed, toldToWait) = (burst.Count(Burst.Outcome.Ok), burst.Count(Burst.Outcome.Failed), burst.Count(Burst.Outcome.ToldToWait));
        var ratio = loaded.Percentile(99) / idle.Percentile(99);
        var answered = ok + failed;
        Progress.Say($"fairness: B's GetVm p99 {Format.Micros(idle.Percentile(99))} idle, {Format.Micros(loaded.Percentile(99))} under A's burst; A's conversions {ok} OK, {failed} failed, {toldToWait} told to wait by the rate limit");
        return
        [
            new Row(Group, $"another owner's GetVm p99 while one owner converts with {inFlight} calls in flight, as fast as its quota allows", Format.Micros(loaded.Percentile(99)), $"{Format.Micros(idle.Percentile(99))} (its GetVm idle)", Format.Ratio(ratio), $"≤ {Limit}x", ratio <= Limit),
            new Row(Group, $"another owner's idle GetVm p99, lowest and highest of the {Rounds} idle phases (the run's noise, no burst)", $"{Format.Micros(idleByRound.Min())} to {Format.Micros(idleByRound.Max())}", $"{Format.Micros(idle.Percentile(99))} (its GetVm idle)", "-", "-", null),
            new Row(Group, "another owner's GetVm p50 under the same burst", Format.Micros(loaded.Percentile(50)), $"{Format.Micros(idle.Percentile(50))} (its GetVm idle)", Format.Ratio(loaded.Percentile(50) / idle.Percentile(50)), "-", null),
            new Row(Group, "GC pauses while B was timed (server and driver share the process)", $"{Format.Count(collections)} collections, {paused.TotalMilliseconds:F0} ms", "none", "-", "-", null),
            new Row(Group, "the bursting owner's conversions answered OK", $"{Format.Count(ok)} of {Format.Count(answered)}", "none", "-", "all", answered > 0 && failed == 0),
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

    private async Task ConvertUntilStoppedAsync(GuestMemoryService.GuestMemoryServiceClient memory, string vm, bool toPrivate, Burst burst)
    {
        while (await burst.EnterAsync().ConfigureAwait(false))
        {
            var request = new ConvertMemoryRequest { Vm = vm, Gpa = 0, Size = options.FairnessConversionBytes, Target = toPrivate ? MemoryVisibility.Private : MemoryVisibility.Shared };
            TimeSpan? retryAfter = null;
            try
            {
                // Not cancelled with the burst: a conversion in flight is let finish and counted.
                await memory.ConvertMemoryAsync(request).ResponseAsync.ConfigureAwait(false);
                burst.Add(Burst.Outcome.Ok);
                toPrivate = !toPrivate;
            }
            catch (RpcException e) when (RetryAfter(e) is { } delay)
            {
                // The mutation rate limit: A stays within its quota as the SDK would, waiting as long as told.
                burst.Add(Burst.Outcome.ToldToWait);
                retryAfter = delay;
            }
            catch (RpcException)
            {
                burst.Add(Burst.Outcome.Failed);
                toPrivate = !toPrivate;
            }
            finally
            {
                burst.Exit();
            }

            if (retryAfter is { } wait)
            {
                await Task.Delay(wait, CancellationToken.None).ConfigureAwait(false);
            }
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
