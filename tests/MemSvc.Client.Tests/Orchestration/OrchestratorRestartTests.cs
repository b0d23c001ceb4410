using System.Collections.Concurrent;
using Grpc.Core;
using MemSvc.Client.Events;
using MemSvc.Client.Orchestration;
using MemSvc.Client.Tests.Infrastructure;
using MemSvc.Client.Tests.Watch;
using MemSvc.Contracts.V1;
using MemSvc.Testing;

namespace MemSvc.Client.Tests.Orchestration;

/// <summary>
/// An orchestrator killed and restarted at random points (a seeded random, so a failure replays) while 100 VMs fault
/// continuously, over journals far smaller than what each VM records: list, then watch, on every start.
/// </summary>
public sealed class OrchestratorRestartTests
{
    private const int Vms = 100;
    private const int FaultsPerVm = 40;
    private const int Restarts = 8;

    // The timeout is a hang guard: a fault nobody resolves would leave its vCPU waiting, and this test waiting on it.
    [Fact(Timeout = 300_000)]
    public async Task Every_fault_is_resolved_exactly_once_by_it_or_the_fallback_no_handler_sees_one_twice_and_nothing_is_compacted()
    {
        var ct = TestContext.Current.CancellationToken;

        // 64 events a VM: each VM records about 200, so an orchestrator that resumed from where it once was (or from 1)
        // would find its start compacted.
        await using var server = await TestServer.StartAsync(("MemSvc:Quotas:MaxVmsPerOwner", "200"), ("MemSvc:JournalRetention", "64"));
        using var plain = new MemSvcClient(ResumableWatchTests.Options(server));
        var seen = new ServerSide();
        using var stopVerifier = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var verifier = Task.Run(() => seen.RecordAsync(plain, stopVerifier.Token), ct);
        var vms = new List<Vm>();
        for (var i = 0; i < Vms; i++)
        {
            vms.Add(await FaultingVms.CreateAsync(plain, $"vm-{i:d3}", resolutionTimeout: TimeSpan.FromMilliseconds(300), fallback: FaultAction.Convert));
        }

        foreach (var vm in vms)
        {
            await FaultingVms.StartAsync(plain, vm, FaultsPerVm);
        }

        var random = new Random(20_251_212);
        var handled = new ConcurrentDictionary<(int Run, string VmUid, ulong FaultId), int>();
        var resolvedByRun = new ConcurrentDictionary<(string VmUid, ulong FaultId), int>();
        var violations = new ConcurrentQueue<string>();
        var causes = new ConcurrentQueue<Exception?>();
        for (var run = 0; run <= Restarts; run++)
        {
            var current = run;
            using var client = new MemSvcClient(ResumableWatchTests.Options(server));
            using var kill = CancellationTokenSource.CreateLinkedTokenSource(ct);
            var orchestrator = new FaultOrchestrator(client)
            {
                MaxConcurrency = 16,
                OnReconnecting = r => causes.Enqueue(r.Cause),
                OnResolved = o =>
                {
                    if (o.Response is not null)
                    {
                        resolvedByRun[(o.Fault.VmUid, o.Fault.FaultId)] = current;
                    }
                },
            }
            .OnMemoryFault(async (fault, _) =>
            {
                if (!handled.TryAdd((current, fault.VmUid, fault.FaultId), 1))
                {
                    violations.Enqueue($"run {current} saw fault {fault.FaultId} of {fault.Vm} twice");
                }

                if (resolvedByRun.TryGetValue((fault.VmUid, fault.FaultId), out var by))
                {
                    violations.Enqueue($"run {current} was handed fault {fault.FaultId} of {fault.Vm}, which run {by} had resolved");
                }

                await Task.Yield();
                return FaultAction.Convert;
            });
            var running = orchestrator.RunAsync(kill.Token);
            if (run < Restarts)
            {
                // Killed at a random point, then down for a while: some faults meet their fallback meanwhile.
                await Task.Delay(random.Next(10, 250), ct);
                await kill.CancelAsync();
                await running;
                await Task.Delay(random.Next(0, 400), ct);
            }
            else
            {
                await seen.AllResolved(Vms * FaultsPerVm).WaitAsync(ct);
                await kill.CancelAsync();
                await running;
            }
        }

        await stopVerifier.CancelAsync();
        await verifier;

        Assert.Empty(violations);
        Assert.DoesNotContain(causes, c => c is RpcException { StatusCode: StatusCode.OutOfRange });
        var (announced, resolutions) = seen.Snapshot();
        Assert.Equal(Vms * FaultsPerVm, announced.Count);
        Assert.Equal(announced.Order(), resolutions.Keys.Order());
        Assert.All(resolutions, r => Assert.Single(r.Value));
        Assert.All(resolvedByRun.Keys, fault => Assert.False(resolutions[fault].Single(), $"fault {fault} answered to the orchestrator was resolved by the fallback"));
        Assert.Contains(resolutions.Values, r => r.Single());
        Assert.Contains(resolutions.Values, r => !r.Single());
        foreach (var vm in vms)
        {
            Assert.Equal(VcpuState.Halted, (await plain.Vcpus.GetAsync(vm.Name, 0, ct)).State);
        }
    }

    /// <summary>What the server did, from a watch of every VM that runs throughout: faults, and each resolution's by_fallback.</summary>
    private sealed class ServerSide
    {
        private readonly Lock _lock = new();
        private readonly HashSet<(string VmUid, ulong FaultId)> _announced = [];
        private readonly Dictionary<(string VmUid, ulong FaultId), List<bool>> _resolutions = [];
        private readonly TaskCompletionSource _allResolved = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private int _expected = int.MaxValue;
        private int _resolved;

        public async Task RecordAsync(MemSvcClient client, CancellationToken stop)
        {
            try
            {
                await foreach (var e in client.Events.WatchAsync(new WatchOptions { Kinds = [EventKind.MemoryFault, EventKind.FaultResolved] }, stop))
                {
                    Record(e);
                }
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
            }
        }

        public Task AllResolved(int faults)
        {
            lock (_lock)
            {
                _expected = faults;
                Check();
            }

            return _allResolved.Task;
        }

        public (List<(string, ulong)> Announced, Dictionary<(string, ulong), List<bool>> Resolutions) Snapshot()
        {
            lock (_lock)
            {
                return ([.. _announced], _resolutions.ToDictionary(r => r.Key, r => r.Value.ToList()));
            }
        }

        private void Record(Event e)
        {
            lock (_lock)
            {
                if (e.MemoryFault is { } fault)
                {
                    _announced.Add((e.VmUid, fault.FaultId));
                }
                else if (e.FaultResolved is { } resolved)
                {
                    var key = (e.VmUid, resolved.FaultId);
                    if (!_resolutions.TryGetValue(key, out var list))
                    {
                        _resolutions[key] = list = [];
                    }

                    list.Add(resolved.ByFallback);
                    _resolved++;
                    Check();
                }
            }
        }

        private void Check()
        {
            if (_resolved >= _expected)
            {
                _allResolved.TrySetResult();
            }
        }
    }
}
