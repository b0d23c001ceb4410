using Grpc.Core;
using MemSvc.Contracts.V1;

namespace MemSvc.Server.Tests.Infrastructure;

/// <summary>
/// Load on a server that is about to be killed, and watchers that keep what they saw until it dies: the material
/// of the restart tests, which compare what watchers were told before a kill with the journals after it.
/// </summary>
public static class DoomedServerLoad
{
    private const ulong Page = 4096;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public static async Task<List<WatchEventsResponse>> ReadToEndAsync(Clients clients, WatchEventsRequest request)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        deadline.CancelAfter(Watcher.Patience);
        using var call = clients.Events.WatchEvents(request, cancellationToken: deadline.Token);
        var items = new List<WatchEventsResponse>();
        while (await call.ResponseStream.MoveNext(deadline.Token))
        {
            items.Add(call.ResponseStream.Current);
        }

        return items;
    }

    public static async Task WatchUntilKilledAsync(Clients clients, WatchedVm vm, CancellationToken stop)
    {
        try
        {
            using var call = clients.Events.WatchEvents(new WatchEventsRequest { Vm = vm.Name, VmUid = vm.Uid, StartSequence = 1 }, cancellationToken: stop);
            while (await call.ResponseStream.MoveNext(stop))
            {
                vm.See(call.ResponseStream.Current.Event);
            }
        }
        catch (Exception e) when (e is RpcException or OperationCanceledException)
        {
            // The server was killed (or the test stopped watching).
        }
    }

    public static async Task ConvertAsync(Clients clients, string vm, int times, CancellationToken stop)
    {
        try
        {
            for (var i = 0; i < times; i++)
            {
                var target = i % 2 == 0 ? MemoryVisibility.Private : MemoryVisibility.Shared;
                await clients.Memory.ConvertMemoryAsync(new() { Vm = vm, Gpa = 0, Size = Page, Target = target }, cancellationToken: stop);
            }
        }
        catch (Exception e) when ((e is RpcException or OperationCanceledException) && (stop.IsCancellationRequested || times == int.MaxValue))
        {
            // The load ends with the server.
        }
    }

    // Each of the VM's two vCPUs writes its 32 MiB half with private, then shared, intent, over and over, with the
    // AUTO policy: three events a page (fault, conversion, resolution), 24,576 a pass, for longer than any round.
    public static async Task StartFaultingAsync(Clients clients, string vm)
    {
        for (uint vcpu = 0; vcpu < 2; vcpu++)
        {
            var half = vcpu * 32 * Steps.MiB;
            var passes = Enumerable.Range(0, 8).Select(i => Steps.Write(half, (byte)(i + 1), i % 2 == 0 ? AccessIntent.Private : AccessIntent.Shared, 32 * Steps.MiB));
            var name = $"{vm}/vcpus/{vcpu}";
            await clients.Vcpus.LoadGuestProgramAsync(new LoadGuestProgramRequest { Name = name, Program = Steps.Program([.. passes, Steps.Halt()]) }, cancellationToken: Ct);
            await clients.Vcpus.StartVcpuAsync(new StartVcpuRequest { Name = name }, cancellationToken: Ct);
        }
    }

    public static async Task WaitUntilAsync(Func<bool> condition, int seed)
    {
        var until = DateTime.UtcNow + Watcher.Patience;
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < until, $"seed {seed}: the watchers did not see the events in time");
            await Task.Delay(10, Ct);
        }
    }
}

/// <summary>A VM of a server about to be killed, and the events its watcher saw before the kill.</summary>
public sealed record WatchedVm(string Name, string Uid, string Point, List<Event> Seen)
{
    public int Count
    {
        get
        {
            lock (Seen)
            {
                return Seen.Count;
            }
        }
    }

    public void See(Event evt)
    {
        lock (Seen)
        {
            Seen.Add(evt);
        }
    }
}
