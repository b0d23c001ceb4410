using System.Collections.Concurrent;
using MemSvc.Core.Errors;
using MemSvc.Server.Execution;

namespace MemSvc.Server.Tests.Execution;

/// <summary>
/// The workers' rules on their own: operations held at gates, so that "running", "queued" and "done" are states the
/// test sets up. Every wait is bounded by <see cref="Patience"/>, a safety net and never a claim about speed.
/// </summary>
public sealed class FairWorkersTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task An_owner_at_its_share_leaves_the_other_workers_to_other_owners()
    {
        using var workers = new FairWorkers(count: 2, perOwner: 1);
        using var gate = new ManualResetEventSlim();
        var started = new ConcurrentQueue<string>();

        var alice = Enumerable.Range(0, 3).Select(i => workers.RunAsync("alice", $"vm-{i}", () => Hold(started, $"a{i}", gate), Ct)).ToList();
        await Until(() => started.Count == 1);
        var bob = await workers.RunAsync("bob", "vm-b", () => "b", Ct).WaitAsync(Patience, Ct);

        Assert.Equal("b", bob);
        Assert.Equal(["a0"], started);
        Assert.Equal(2, workers.Queued);
        gate.Set();
        Assert.Equal(["a0", "a1", "a2"], await Task.WhenAll(alice).WaitAsync(Patience, Ct));
    }

    [Fact]
    public async Task Owners_are_served_round_robin_not_in_arrival_order()
    {
        using var workers = new FairWorkers(count: 1, perOwner: 1);
        using var gate = new ManualResetEventSlim();
        var started = new ConcurrentQueue<string>();

        var first = workers.RunAsync("alice", null, () => Hold(started, "a0", gate), Ct);
        await Until(() => started.Count == 1);
        var queued = new[] { ("alice", "a1"), ("alice", "a2"), ("bob", "b0"), ("carol", "c0"), ("bob", "b1") }
            .Select(c => workers.RunAsync(c.Item1, null, () => Hold(started, c.Item2, gate), Ct)).ToList();
        gate.Set();
        await Task.WhenAll([first, .. queued]).WaitAsync(Patience, Ct);

        Assert.Equal(["a0", "a1", "b0", "c0", "a2", "b1"], started);
    }

    [Fact]
    public async Task Operations_on_one_VM_run_one_at_a_time_in_order_and_hold_no_worker_while_they_wait()
    {
        using var workers = new FairWorkers(count: 3, perOwner: 3);
        using var gate = new ManualResetEventSlim();
        var started = new ConcurrentQueue<string>();

        var sameVm = Enumerable.Range(0, 3).Select(i => workers.RunAsync("alice", "vm-x", () => Hold(started, $"x{i}", gate), Ct)).ToList();
        await Until(() => started.Count == 1);
        var otherVm = await workers.RunAsync("alice", "vm-y", () => "y", Ct).WaitAsync(Patience, Ct);

        Assert.Equal(("y", 2), (otherVm, workers.Queued));
        gate.Set();
        Assert.Equal(["x0", "x1", "x2"], await Task.WhenAll(sameVm).WaitAsync(Patience, Ct));
        Assert.Equal(["x0", "x1", "x2"], started);
    }

    [Fact]
    public async Task A_queued_operation_whose_call_is_cancelled_never_runs_and_a_started_one_runs_to_its_end()
    {
        using var workers = new FairWorkers(count: 1, perOwner: 1);
        using var gate = new ManualResetEventSlim();
        using var running = new CancellationTokenSource();
        using var waiting = new CancellationTokenSource();
        var started = new ConcurrentQueue<string>();

        var first = workers.RunAsync("alice", null, () => Hold(started, "first", gate), running.Token);
        await Until(() => started.Count == 1);
        var second = workers.RunAsync("alice", null, () => Hold(started, "second", gate), waiting.Token);
        await waiting.CancelAsync();
        await running.CancelAsync();
        gate.Set();

        Assert.Equal("first", await first.WaitAsync(Patience, Ct));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => second.WaitAsync(Patience, Ct));
        Assert.Equal(["first"], started);
        Assert.Equal(0, workers.Queued);
    }

    [Fact]
    public async Task A_failure_reaches_the_caller_and_stopping_fails_what_is_still_queued()
    {
        var workers = new FairWorkers(count: 1, perOwner: 1);
        using var gate = new ManualResetEventSlim();
        var started = new ConcurrentQueue<string>();

        var failure = await Assert.ThrowsAsync<CoreException>(
            () => workers.RunAsync<int>("alice", null, () => throw CoreException.FailedPrecondition("TEST", "refused"), Ct).WaitAsync(Patience, Ct));
        var running = workers.RunAsync("alice", null, () => Hold(started, "running", gate), Ct);
        await Until(() => started.Count == 1);
        var queued = workers.RunAsync("alice", null, () => Hold(started, "queued", gate), Ct);
        workers.Dispose();
        gate.Set();

        Assert.Equal("TEST", failure.Reason);
        Assert.Equal("running", await running.WaitAsync(Patience, Ct));
        Assert.Equal(ErrorReasons.ShuttingDown, (await Assert.ThrowsAsync<CoreException>(() => queued.WaitAsync(Patience, Ct))).Reason);
    }

    [Fact]
    public async Task A_short_operation_runs_on_the_calling_thread_unless_the_owners_work_on_its_VM_runs_or_waits()
    {
        using var workers = new FairWorkers(count: 1, perOwner: 1);
        using var gate = new ManualResetEventSlim();
        var started = new ConcurrentQueue<string>();
        var alice = new MemSvc.Core.Identity.CallerIdentity("alice", false);
        var bob = new MemSvc.Core.Identity.CallerIdentity("bob", false);
        var caller = Environment.CurrentManagedThreadId;

        var idle = workers.TryRunInline(alice, "vm-x", () => Environment.CurrentManagedThreadId, out var idleThread);
        var running = workers.RunAsync(alice, "vm-x", () => Hold(started, "running", gate), Ct);
        await Until(() => started.Count == 1);
        var queued = workers.RunAsync(alice, "vm-x", () => Hold(started, "queued", gate), Ct);
        var behindRunning = workers.TryRunInline(alice, "vm-x", () => 1, out _);
        var otherVm = workers.TryRunInline(alice, "vm-y", () => 2, out var onOtherVm);
        var otherOwner = workers.TryRunInline(bob, "vm-x", () => 3, out var ofOtherOwner);
        gate.Set();
        await Task.WhenAll(running, queued).WaitAsync(Patience, Ct);

        Assert.Equal((true, caller), (idle, idleThread));
        Assert.False(behindRunning);
        Assert.Equal((true, 2, true, 3), (otherVm, onOtherVm, otherOwner, ofOtherOwner));
        Assert.Equal(["running", "queued"], started);
    }

    [Fact]
    public async Task Workers_run_at_the_nice_value_they_were_given()
    {
        using var workers = new FairWorkers(count: 1, perOwner: 1, nice: 10);

        // /proc/thread-self/stat, field 19 (after the parenthesized name): the calling thread's nice value.
        var stat = await workers.RunAsync("alice", null, () => File.ReadAllText("/proc/thread-self/stat"), Ct).WaitAsync(Patience, Ct);

        Assert.Equal("10", stat[(stat.LastIndexOf(')') + 2)..].Split(' ')[16]);
    }

    private static string Hold(ConcurrentQueue<string> started, string name, ManualResetEventSlim gate)
    {
        started.Enqueue(name);
        gate.Wait(Patience);
        return name;
    }

    private static async Task Until(Func<bool> condition)
    {
        using var patience = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        patience.CancelAfter(Patience);
        while (!condition())
        {
            await Task.Delay(5, patience.Token);
        }
    }
}
