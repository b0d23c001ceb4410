using MemSvc.Contracts.V1;
using MemSvc.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace Orchestrator.Tests;

/// <summary>The orchestrator against MemSvc in this process (MemSvc.Testing): no Docker, no /dev/kvm.</summary>
public sealed class InProcessTests
{
    [Fact]
    public async Task A_private_write_below_the_limit_is_converted_by_the_orchestrator_and_the_guest_runs_on()
    {
        await using var memsvc = await MemSvcTestServer.StartAsync(o => o.HostProfile = HostProfiles.Default, TestContext.Current.CancellationToken);
        using var host = await FaultScenario.StartOrchestratorAsync(("MemSvc:Client:SocketPath", memsvc.SocketPath), ("Placement:PrivateMemoryLimit", "1048576"));
        var client = memsvc.CreateClient();
        var vm = await FaultScenario.CreateVmAsync(client, "guest");

        var state = await FaultScenario.RunPrivateWriteAsync(client, vm, gpa: FaultScenario.Page);

        Assert.Equal(VcpuState.Halted, state);
        var resolution = await FaultScenario.FirstResolutionAsync(client, vm);
        Assert.Equal((1UL, FaultAction.Convert, false), (resolution.FaultId, resolution.Action, resolution.ByFallback));
        Assert.Equal(1, host.Services.GetRequiredService<FaultResolver>().Resolved);
        await host.StopAsync(TestContext.Current.CancellationToken);
    }

    [Fact]
    public async Task A_private_write_past_the_limit_is_refused_and_fails_the_vcpu()
    {
        await using var memsvc = await MemSvcTestServer.StartAsync(cancellationToken: TestContext.Current.CancellationToken);
        using var host = await FaultScenario.StartOrchestratorAsync(("MemSvc:Client:SocketPath", memsvc.SocketPath), ("Placement:PrivateMemoryLimit", "65536"));
        var client = memsvc.CreateClient();
        var vm = await FaultScenario.CreateVmAsync(client, "greedy");

        var state = await FaultScenario.RunPrivateWriteAsync(client, vm, gpa: 1 << 20);

        Assert.Equal(VcpuState.Failed, state);
        var resolution = await FaultScenario.FirstResolutionAsync(client, vm);
        Assert.Equal((1UL, FaultAction.Fail, false), (resolution.FaultId, resolution.Action, resolution.ByFallback));
        await host.StopAsync(TestContext.Current.CancellationToken);
    }

    [Fact]
    public async Task The_host_profile_decides_which_host_the_simulated_backend_is()
    {
        await using var memsvc = await MemSvcTestServer.StartAsync(o => o.HostProfile = HostProfiles.Kvm618Pvm, TestContext.Current.CancellationToken);
        var client = memsvc.CreateClient();

        var info = await client.Host.GetInfoAsync(TestContext.Current.CancellationToken);

        var simulated = Assert.Single(info.Backends);
        Assert.StartsWith("simulated (kvm-6.18-pvm", simulated.KernelVersion, StringComparison.Ordinal);
        Assert.Equal([VmType.Default], simulated.VmTypes);
        Assert.Equal(HostProfiles.Kvm618Pvm, memsvc.HostProfile);
    }
}
