using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using MemSvc.Client;
using MemSvc.Client.Orchestration;
using MemSvc.LoadDriver.Measure;

namespace MemSvc.LoadDriver.Suites;

/// <summary>
/// The orchestrator row's client process (this executable with --orchestrator-child ADDRESS FAULTS CONCURRENCY):
/// one SDK FaultOrchestrator over every VM of the server at ADDRESS (unix:PATH or http://...), converting every
/// fault, in a process of its own so that its memory is its own. Prints "ready RSS HEAP" once its first listing is
/// done. While the driver warms it up, each "jit" line on stdin is answered with "jit N" (the methods this process
/// has compiled so far); "measure" starts counting, from what is resolved after its answer "measuring". It prints
/// "done COUNT P50 P99 RSS PEAK HEAP SECONDS" (microseconds, bytes) when FAULTS faults were resolved after that:
/// each fault's latency is ResolveFault's own (the server's clock, from the fault to its resolution).
/// </summary>
internal static class OrchestratorChild
{
    public const string Flag = "--orchestrator-child";

    public static async Task<int> RunAsync(string[] args)
    {
        if (args is not [Flag, var address, var faultsText, var concurrencyText])
        {
            return 2;
        }

        var expected = int.Parse(faultsText, CultureInfo.InvariantCulture);
        var options = address.StartsWith("unix:", StringComparison.Ordinal)
            ? new MemSvcClientOptions { SocketPath = address["unix:".Length..] }
            : new MemSvcClientOptions { Address = new Uri(address) };
        using var client = new MemSvcClient(options);
        var latencies = new ConcurrentQueue<double>();
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        long first = 0, last = 0;
        var count = 0;
        var measuring = false;
        void Resolved(FaultOutcome outcome)
        {
            if (outcome.Response?.Latency is not { } latency || !Volatile.Read(ref measuring))
            {
                return;
            }

            latencies.Enqueue((latency.Seconds * 1e6) + (latency.Nanos / 1e3));
            Interlocked.CompareExchange(ref first, Stopwatch.GetTimestamp(), 0);
            Volatile.Write(ref last, Stopwatch.GetTimestamp());
            if (Interlocked.Increment(ref count) == expected)
            {
                done.TrySetResult();
            }
        }

        using var stop = new CancellationTokenSource();
        var orchestrator = new FaultOrchestrator(client) { MaxConcurrency = int.Parse(concurrencyText, CultureInfo.InvariantCulture), OnResolved = Resolved };
        var running = orchestrator.RunAsync(stop.Token);
        while (orchestrator.Counts.Listings == 0 && !running.IsCompleted)
        {
            await Task.Delay(10).ConfigureAwait(false);
        }

        Console.WriteLine(FormattableString.Invariant($"ready {Rss.OfSelf()} {GC.GetTotalMemory(forceFullCollection: true)}"));
        // Warm-up: the driver resolves faults through this process until neither process compiles any more methods.
        // Between its rounds no fault is pending, so "measure" starts the count at a round's edge.
        while (await Console.In.ReadLineAsync().ConfigureAwait(false) is "jit")
        {
            Console.WriteLine(FormattableString.Invariant($"jit {System.Runtime.JitInfo.GetCompiledMethodCount()}"));
        }

        Volatile.Write(ref measuring, true);
        Console.WriteLine("measuring");
        await Task.WhenAny(done.Task, running).ConfigureAwait(false);
        var heap = GC.GetTotalMemory(forceFullCollection: false);
        var rss = Rss.OfSelf();
        await stop.CancelAsync().ConfigureAwait(false);
        await running.ConfigureAwait(false);

        var samples = new Samples();
        foreach (var latency in latencies)
        {
            samples.Add(latency);
        }

        var seconds = Stopwatch.GetElapsedTime(first, last).TotalSeconds;
        Console.WriteLine(FormattableString.Invariant(
            $"done {samples.Count} {samples.Percentile(50)} {samples.Percentile(99)} {rss} {Rss.PeakOfSelf()} {heap} {seconds}"));
        return samples.Count == expected ? 0 : 1;
    }
}
