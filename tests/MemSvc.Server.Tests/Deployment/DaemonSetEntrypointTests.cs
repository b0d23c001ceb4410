using MemSvc.Contracts.V1;
using MemSvc.Server.Tests.Infrastructure;

namespace MemSvc.Server.Tests.Deployment;

/// <summary>
/// The DaemonSet's container command, run as kubelet would run it for a rolling update with maxSurge 1: the surge
/// pod's server takes the VMs over from the old pod's through the shared socket directory, the old pod's container
/// waits (not exits, which kubelet would answer with a restart) until it is deleted, and a pod that finds only a
/// crashed pod's socket starts afresh.
/// </summary>
public sealed class DaemonSetEntrypointTests : IDisposable
{
    private readonly DirectoryInfo _directory = Directory.CreateTempSubdirectory("memsvc-daemonset-");

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task The_surge_pod_takes_over_the_old_pods_VMs_the_old_container_waits_for_deletion_and_a_stale_socket_means_a_fresh_start()
    {
        using var channel = RunningServer.SocketChannelTo(Path.Combine(_directory.FullName, "memsvc.sock"));
        var clients = new Clients(channel);
        await using var old = EntrypointProcess.Start(_directory.FullName);
        var first = await EntrypointProcess.ServingAsync(clients);
        var vm = (await clients.Vms.CreateVmAsync(new() { VmId = "kept", Backend = Backend.Simulated, VcpuCount = 1 }, cancellationToken: Ct)).Vm;
        Assert.DoesNotContain("memsvc-entrypoint:", old.Output, StringComparison.Ordinal);

        await using var surge = EntrypointProcess.Start(_directory.FullName);
        var second = await EntrypointProcess.ServingAsync(clients, first.InstanceId);

        Assert.Equal(vm, (await clients.Vms.GetVmAsync(new() { Name = vm.Name }, cancellationToken: Ct)).Vm);
        Assert.Contains($"memsvc-entrypoint: a MemSvc listens beside {Path.Combine(_directory.FullName, "memsvc.sock")}: taking over its VMs", surge.Output, StringComparison.Ordinal);
        await old.WaitForOutputAsync("memsvc-entrypoint: the server handed its VMs over to a new process; waiting for this pod's deletion");
        await Task.Delay(1500, Ct);
        Assert.False(old.HasExited);

        // The old pod's deletion: its container ends at once, 0, and the new pod serves on.
        Assert.Equal(0, await old.TerminateAsync());
        Assert.Equal(second.InstanceId, (await EntrypointProcess.ServingAsync(clients, first.InstanceId)).InstanceId);

        // The new pod's container killed outright: its sockets stay behind, and the next start finds nobody to
        // take over from, says so, and starts afresh; the journal reports the VM lost.
        surge.KillAll();
        await using var restarted = EntrypointProcess.Start(_directory.FullName);
        var third = await EntrypointProcess.ServingAsync(clients, second.InstanceId);
        Assert.NotEqual(first.InstanceId, third.InstanceId);
        Assert.Contains("memsvc-entrypoint: no handoff (exit 69): starting afresh", restarted.Output, StringComparison.Ordinal);
        Assert.Empty((await clients.Vms.ListVmsAsync(new(), cancellationToken: Ct)).Vms);

        // A stop of a server that took over nothing: exit 0 after the graceful stop, no waiting.
        Assert.Equal(0, await restarted.TerminateAsync());
        Assert.DoesNotContain("waiting for this pod's deletion", restarted.Output, StringComparison.Ordinal);
    }

    public void Dispose() => _directory.Delete(recursive: true);
}
