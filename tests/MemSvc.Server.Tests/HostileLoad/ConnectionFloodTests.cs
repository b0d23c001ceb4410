using System.Net;
using System.Net.Sockets;
using MemSvc.Contracts.V1;
using MemSvc.Server.Tests.Infrastructure;
using static MemSvc.Server.Tests.Infrastructure.Steps;

namespace MemSvc.Server.Tests.HostileLoad;

/// <summary>
/// D1: idle connections past the process's open-file limit made the runtime abort (exit 134), and every VM died
/// with it. The server now counts connections against a budget derived from that limit and refuses the rest, and
/// accepts only with a free slot, so a flood that outruns admission on a busy machine waits in the listen backlog
/// (before that bound, this test's server aborted in 3 of 6 runs of the whole suite).
/// </summary>
[Collection(nameof(HostileLoadCollection))]
public sealed class ConnectionFloodTests
{
    private const int OpenFiles = 1024;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_flood_of_idle_connections_past_the_open_file_limit_leaves_the_server_serving_and_its_VM_running()
    {
        await using var server = await ChildServer.StartAsync(OpenFiles);

        // Connected before the flood: a VM whose vCPU waits on a fault for an hour, and a watch on it.
        var survivor = new Clients(server.SocketChannel());
        var vm = await Scenario.VmWithMemoryAsync(survivor, "keep", FaultPolicy.Orchestrator, resolutionTimeout: new() { Seconds = 3600 });
        await survivor.Vcpus.LoadGuestProgramAsync(new() { Name = "vms/keep/vcpus/0", Program = Program(Write(0, 7, AccessIntent.Private), Halt()) }, cancellationToken: Ct);
        await using var watch = Watcher.Start(survivor, vm.Name);
        await survivor.Vcpus.StartVcpuAsync(new() { Name = "vms/keep/vcpus/0" }, cancellationToken: Ct);
        var fault = (await watch.TakeUntilAsync(e => e.MemoryFault is not null))[^1].MemoryFault;

        // More connections on each listener than the process has file descriptors, as the probe's repro made them.
        using var tcp = new ConnectionFlood();
        using var unix = new ConnectionFlood();
        await tcp.OpenAsync(new IPEndPoint(IPAddress.Loopback, server.Loopback.Port), OpenFiles + 76, TimeSpan.FromSeconds(40));
        await unix.OpenAsync(new UnixDomainSocketEndPoint(server.SocketPath), OpenFiles + 76, TimeSpan.FromSeconds(40));
        await SettleAsync(server);

        Assert.False(server.HasExited, server.Output);
        Assert.InRange(server.OpenFds(), 1, OpenFiles - 1);
        var during = await survivor.Vms.GetVmAsync(new() { Name = vm.Name }, cancellationToken: Ct);
        Assert.Equal(VmState.Running, during.Vm.State);
        await survivor.Events.ResolveFaultAsync(new() { Vm = vm.Name, FaultId = fault.FaultId, Action = FaultAction.Convert }, cancellationToken: Ct);
        await watch.TakeUntilAsync(e => e.VcpuStateChanged?.State == VcpuState.Halted);

        // Once the flood goes, anyone gets in again.
        tcp.Dispose();
        unix.Dispose();
        var newcomer = await Eventually(() => new Clients(server.LoopbackChannel()).Vms.ListVmsAsync(new(), cancellationToken: Ct).ResponseAsync);
        Assert.Empty(newcomer.Vms);
        Assert.False(server.HasExited, server.Output);
    }

    /// <summary>Waits until the child's fd count stops moving (it has taken in the flood) or it exits; bounded.</summary>
    private static async Task SettleAsync(ChildServer server)
    {
        var last = -1;
        var steady = 0;
        for (var i = 0; i < 60 && steady < 4 && !server.HasExited; i++)
        {
            await Task.Delay(250, Ct);
            int now;
            try
            {
                now = server.OpenFds();
            }
            catch (DirectoryNotFoundException)
            {
                break;
            }

            steady = now == last ? steady + 1 : 0;
            last = now;
        }
    }

    /// <summary>A call that the server may refuse for a moment while it notices closed connections; bounded.</summary>
    private static async Task<T> Eventually<T>(Func<Task<T>> call)
    {
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                return await call();
            }
            catch (Grpc.Core.RpcException) when (attempt < 50)
            {
                await Task.Delay(200, Ct);
            }
        }
    }
}
