using Grpc.Core;
using MemSvc.Contracts.V1;

namespace MemSvc.Server.Tests.Infrastructure;

/// <summary>
/// Clients of a server that is handed off under them: watchers that resume after the last event they saw whenever
/// their stream breaks, resolvers and converters that send a call again while the server is being replaced, and the
/// vCPU load of the handoff tests.
/// </summary>
public static class HandoffLoad
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public static int Halted(List<Event> seen)
    {
        lock (seen)
        {
            return seen.Count(e => e.PayloadCase == Event.PayloadOneofCase.VcpuStateChanged && e.VcpuStateChanged.State == VcpuState.Halted);
        }
    }

    public static int Resolved(Dictionary<ulong, List<string>> outcomes)
    {
        lock (outcomes)
        {
            return outcomes.Count;
        }
    }

    // Resolves a memory fault, sending the call again while the server is being replaced.
    public static async Task ResolveAsync(Clients clients, Vm vm, Event evt, Dictionary<ulong, List<string>> outcomes)
    {
        if (evt.PayloadCase != Event.PayloadOneofCase.MemoryFault)
        {
            return;
        }

        var id = evt.MemoryFault.FaultId;
        while (true)
        {
            string outcome;
            try
            {
                await clients.Events.ResolveFaultAsync(new ResolveFaultRequest { Vm = vm.Name, VmUid = vm.Uid, FaultId = id, Action = FaultAction.Convert }, cancellationToken: Ct);
                outcome = "ok";
            }
            catch (RpcException e) when (e.StatusCode == StatusCode.Unavailable)
            {
                await Task.Delay(5, Ct);
                continue;
            }
            catch (RpcException e)
            {
                outcome = RpcError.From(e).Info.Reason;
            }

            lock (outcomes)
            {
                if (!outcomes.TryGetValue(id, out var list))
                {
                    outcomes[id] = list = [];
                }

                list.Add(outcome);
            }

            return;
        }
    }

    public static int Count(List<Event> seen)
    {
        lock (seen)
        {
            return seen.Count;
        }
    }

    // Watches from after the last event seen, again after every broken stream (a handoff), until stopped or until
    // the event at sequence `until` is in.
    public static async Task FollowAsync(Clients clients, Vm vm, List<Event> seen, CancellationToken stop, ulong until = 0, Func<Event, Task>? onEvent = null)
    {
        while (!stop.IsCancellationRequested)
        {
            ulong from;
            lock (seen)
            {
                from = seen.Count == 0 ? 1 : seen[^1].Sequence + 1;
            }

            if (until != 0 && from > until)
            {
                return;
            }

            try
            {
                using var call = clients.Events.WatchEvents(new WatchEventsRequest { Vm = vm.Name, VmUid = vm.Uid, StartSequence = from }, cancellationToken: stop);
                while (await call.ResponseStream.MoveNext(stop))
                {
                    lock (seen)
                    {
                        seen.Add(call.ResponseStream.Current.Event);
                    }

                    if (onEvent is not null)
                    {
                        await onEvent(call.ResponseStream.Current.Event);
                    }

                    if (until != 0 && call.ResponseStream.Current.Event.Sequence >= until)
                    {
                        return;
                    }
                }
            }
            catch (RpcException e) when (e.StatusCode == StatusCode.Unavailable)
            {
                // The server is being replaced: the next one serves on the same socket moments later.
                await Task.Delay(5, CancellationToken.None);
            }
            catch (Exception e) when ((e is RpcException or OperationCanceledException) && stop.IsCancellationRequested)
            {
                return;
            }
        }
    }

    // Each vCPU of the VM writes its 4 MiB with private, then shared, intent, 6 times (AUTO: a fault, a conversion
    // and a resolution a page): 18,432 events a vCPU, which watchers keep up with inside the journal's retention.
    public static async Task StartFaultingAsync(Clients clients, string vm)
    {
        for (uint vcpu = 0; vcpu < 2; vcpu++)
        {
            var start = vcpu * 4 * Steps.MiB;
            var passes = Enumerable.Range(0, 6).Select(i => Steps.Write(start, (byte)(i + 1), i % 2 == 0 ? AccessIntent.Private : AccessIntent.Shared, 4 * Steps.MiB));
            var name = $"{vm}/vcpus/{vcpu}";
            await clients.Vcpus.LoadGuestProgramAsync(new LoadGuestProgramRequest { Name = name, Program = Steps.Program([.. passes, Steps.Check(start, 6, AccessIntent.Shared, 4 * Steps.MiB), Steps.Halt()]) }, cancellationToken: Ct);
            await clients.Vcpus.StartVcpuAsync(new StartVcpuRequest { Name = name }, cancellationToken: Ct);
        }
    }

    // Pauses a vCPU still running its program; one that has halted (its checks passed) stays so.
    public static async Task StopAsync(Clients clients, string vcpu)
    {
        try
        {
            await clients.Vcpus.PauseVcpuAsync(new() { Name = vcpu }, cancellationToken: Ct);
        }
        catch (RpcException e) when (e.StatusCode == StatusCode.FailedPrecondition)
        {
            // It halted first.
        }

        using var patience = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        patience.CancelAfter(Watcher.Patience);
        while ((await clients.Vcpus.GetVcpuAsync(new() { Name = vcpu }, cancellationToken: patience.Token)).Vcpu.State is not (VcpuState.Paused or VcpuState.Halted) and var state)
        {
            Assert.NotEqual(VcpuState.Failed, state);
            await Task.Delay(2, patience.Token);
        }
    }

    public static async Task ConvertAsync(Clients clients, string vm, List<long> done, CancellationToken stop)
    {
        for (var i = 0; !stop.IsCancellationRequested; i++)
        {
            try
            {
                var target = i % 2 == 0 ? MemoryVisibility.Private : MemoryVisibility.Shared;
                await clients.Memory.ConvertMemoryAsync(new() { Vm = vm, Gpa = 40 * Steps.MiB, Size = Steps.Page, Target = target }, cancellationToken: stop);
                lock (done)
                {
                    done.Add(i);
                }
            }
            catch (RpcException e) when (e.StatusCode == StatusCode.Unavailable)
            {
                await Task.Delay(5, CancellationToken.None);
            }
            catch (Exception e) when ((e is RpcException or OperationCanceledException) && stop.IsCancellationRequested)
            {
                return;
            }
        }
    }
}
