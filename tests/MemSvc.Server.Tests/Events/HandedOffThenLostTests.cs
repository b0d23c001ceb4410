using MemSvc.Contracts.V1;
using MemSvc.Server.Tests.Infrastructure;
using static MemSvc.Server.Tests.Infrastructure.DoomedServerLoad;

namespace MemSvc.Server.Tests.Events;

/// <summary>
/// A VM that moved by a planned handoff and was then lost (its new server killed) is reported lost by the server
/// that lost it: a watcher compares the VM_LOST's instance with the instance_id it last saw, and the server that
/// created the VM handed it off cleanly long before. Found by running the systemd unit under a real systemd:
/// the VM_LOST named the first instance after two upgrades and a kill.
/// </summary>
public sealed class HandedOffThenLostTests : IDisposable
{
    private static readonly (string Key, string Value) TakeOver = ("MemSvc:Handoff:TakeOver", "true");

    private readonly DirectoryInfo _directory = Directory.CreateTempSubdirectory("memsvc-handed-off-lost-");

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private (string Key, string Value) Journal => ("MemSvc:Journal:Directory", Path.Combine(_directory.FullName, "journal"));

    [Fact]
    public async Task A_VM_handed_off_then_killed_with_its_new_server_is_lost_by_that_server_not_by_the_one_that_made_it()
    {
        string maker, taker;
        Vm vm;
        await using (var first = await ChildServer.StartInAsync(_directory.FullName, Journal))
        {
            var clients = new Clients(first.SocketChannel());
            maker = (await clients.Host.GetHostInfoAsync(new(), cancellationToken: Ct)).InstanceId;
            vm = await Scenario.VmWithMemoryAsync(clients, "moved");
            await ConvertAsync(clients, vm.Name, 3, Ct);

            await using var second = await ChildServer.StartInAsync(_directory.FullName, Journal, TakeOver);
            Assert.Equal(0, await first.ExitCodeAsync());
            taker = (await new Clients(second.SocketChannel()).Host.GetHostInfoAsync(new(), cancellationToken: Ct)).InstanceId;
            await second.KillAsync();
        }

        await using var third = await ChildServer.StartInAsync(_directory.FullName, Journal);
        var items = await ReadToEndAsync(new Clients(third.SocketChannel()), new WatchEventsRequest { Vm = vm.Name, VmUid = vm.Uid, StartSequence = 4 });

        Assert.NotEqual(maker, taker);
        Assert.Equal((4UL, taker), (items[0].Event.Sequence, items[0].Event.VmLost.InstanceId));
        Assert.Equal($"daemon restarted: instance {taker} ended without handing off its VMs (killed or crashed)", items[0].Event.VmLost.Reason);
    }

    public void Dispose() => _directory.Delete(recursive: true);
}
