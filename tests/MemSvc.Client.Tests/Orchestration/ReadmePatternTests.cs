using System.Collections.Concurrent;
using MemSvc.Client.Errors;
using MemSvc.Client.Events;
using MemSvc.Client.Tests.Infrastructure;
using MemSvc.Contracts.V1;
using MemSvc.Testing;

namespace MemSvc.Client.Tests.Orchestration;

/// <summary>The README's list-then-watch loop, as printed there (but for the client's address and the stop), does what it says.</summary>
public sealed class ReadmePatternTests
{
    // The timeout is a hang guard: a fault the loop missed would leave its vCPU waiting forever.
    [Fact(Timeout = 60_000)]
    public async Task The_README_loop_resolves_a_fault_pending_before_it_listed_and_those_after_and_skips_AUTO_ones()
    {
        await using var server = await TestServer.StartAsync();
        using var setup = MemSvcClient.ForAddress(server.Loopback);
        var early = await FaultingVms.CreateAsync(setup, "early", resolutionTimeout: TimeSpan.FromMinutes(10));
        await FaultingVms.StartAsync(setup, early, 3);
        while ((await setup.Vcpus.GetAsync(early.Name, 0, TestContext.Current.CancellationToken)).State != VcpuState.Waiting)
        {
            await Task.Delay(5, TestContext.Current.CancellationToken);
        }

        using var stop = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        var ct = stop.Token;
        var resolved = new ConcurrentQueue<string>();
        var loop = Task.Run(async () =>
        {
            // From the README, with MemSvcClient.ForAddress for the test server.
            using var client = MemSvcClient.ForAddress(server.Loopback);
            var listing = await client.Events.ListPendingFaultsAsync(cancellationToken: ct);
            foreach (var pending in listing.Faults)
            {
                await ConvertAsync(pending.Event);
            }

            var watch = new WatchOptions { Positions = listing.Positions, Kinds = [EventKind.MemoryFault, EventKind.ConversionRequested] };
            await foreach (var e in client.Events.WatchAsync(watch, ct))
            {
                if ((e.MemoryFault?.Deadline ?? e.ConversionRequested?.Deadline) is not null)
                {
                    await ConvertAsync(e);
                }
            }

            async Task ConvertAsync(Event e)
            {
                try
                {
                    await client.Events.ResolveFaultAsync(e.Vm, e.VmUid, e.MemoryFault?.FaultId ?? e.ConversionRequested.FaultId, FaultAction.Convert, ct);
                    resolved.Enqueue($"{e.Vm} {e.MemoryFault?.FaultId}");
                }
                catch (MemSvcException x) when (FaultErrors.IsFaultOver(x))
                {
                }
            }
        }, ct);

        var late = await FaultingVms.CreateAsync(setup, "late", resolutionTimeout: TimeSpan.FromMinutes(10));
        var auto = await FaultingVms.CreateAsync(setup, "auto", FaultPolicy.Auto);
        await FaultingVms.StartAsync(setup, late, 2);
        await FaultingVms.StartAsync(setup, auto, 2);
        foreach (var vm in new[] { early, late, auto })
        {
            Assert.Equal(VcpuState.Halted, (await Memory.WaitFinishedAsync(setup, vm.Name, 0)).State);
        }

        await stop.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => loop);
        Assert.Equal(["vms/early 1", "vms/early 2", "vms/early 3", "vms/late 1", "vms/late 2"], resolved.Order(StringComparer.Ordinal));
    }
}
