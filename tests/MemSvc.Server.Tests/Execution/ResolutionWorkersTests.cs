using MemSvc.Core.Identity;
using MemSvc.Server.Execution;

namespace MemSvc.Server.Tests.Execution;

/// <summary>
/// Large fault resolutions run on threads of their own at the server's priority, not on the low-priority bulk
/// workers where one owner's conversions would hold them back. Waits are bounded by a patience, never timed.
/// </summary>
public sealed class ResolutionWorkersTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_resolution_runs_at_nice_0_on_a_resolution_thread_while_the_bulk_workers_run_at_the_default_nice_19()
    {
        var options = new WorkerOptions();
        using var bulk = new FairWorkers(count: 1, perOwner: 1, nice: options.Nice);
        using var resolutions = new ResolutionWorkers(options.ResolvedResolutionCount);
        var alice = new CallerIdentity("alice");

        var bulkNice = await bulk.RunAsync("alice", "vm-a", ThreadNice, Ct).WaitAsync(Patience, Ct);
        var (resolutionNice, name) = await resolutions.RunAsync(alice, "vm-a", () => (ThreadNice(), Thread.CurrentThread.Name), Ct).WaitAsync(Patience, Ct);

        Assert.Equal((19, 0), (bulkNice, resolutionNice));
        Assert.StartsWith("memsvc resolution worker ", name, StringComparison.Ordinal);
        Assert.Equal(Math.Max(2, Environment.ProcessorCount), resolutions.Count);
    }

    [Fact]
    public async Task One_owner_holding_every_resolution_thread_but_one_leaves_that_one_to_another_owner()
    {
        using var resolutions = new ResolutionWorkers(2);
        using var gate = new ManualResetEventSlim();
        var alice = new CallerIdentity("alice");

        var held = resolutions.RunAsync(alice, "vm-1", () => gate.Wait(Patience), Ct);
        var aliceQueued = resolutions.RunAsync(alice, "vm-2", () => "alice's second", Ct);
        var bob = await resolutions.RunAsync(new CallerIdentity("bob"), "vm-1", () => "bob's", Ct).WaitAsync(Patience, Ct);

        Assert.Equal(("bob's", false), (bob, aliceQueued.IsCompleted));
        gate.Set();
        Assert.Equal("alice's second", await aliceQueued.WaitAsync(Patience, Ct));
        Assert.True(await held.WaitAsync(Patience, Ct));
    }

    // /proc/thread-self/stat, field 19 (after the parenthesized name): the calling thread's nice value.
    private static int ThreadNice()
    {
        var stat = File.ReadAllText("/proc/thread-self/stat");
        return int.Parse(stat[(stat.LastIndexOf(')') + 2)..].Split(' ')[16], System.Globalization.CultureInfo.InvariantCulture);
    }
}
