using MemSvc.Contracts.V1;
using MemSvc.Testcontainers;
using Microsoft.Extensions.DependencyInjection;

namespace Orchestrator.Tests;

/// <summary>
/// The orchestrator against the MemSvc image in a container (MemSvc.Testcontainers), simulated backend. Skipped
/// with the reason where no Docker engine answers or it lacks the image.
/// </summary>
public sealed class ContainerTests
{
    [Fact]
    public async Task The_orchestrator_resolves_a_fault_of_a_VM_in_the_container()
    {
        var ct = TestContext.Current.CancellationToken;
        if (await DockerAvailability.SkipReasonAsync(ct) is { } reason)
        {
            Assert.Skip(reason);
        }

        await using var memsvc = new MemSvcBuilder(DockerAvailability.Image).WithBackend(MemSvcBackend.Simulated).Build();
        await memsvc.StartAsync(ct);
        // The container's loopback address: the orchestrator and this test are one owner there ("local").
        using var host = await FaultScenario.StartOrchestratorAsync(("MemSvc:Client:Address", memsvc.GetAddress().ToString()), ("Placement:PrivateMemoryLimit", "1048576"));
        using var client = memsvc.GetClient();
        var vm = await FaultScenario.CreateVmAsync(client, "contained");

        var state = await FaultScenario.RunPrivateWriteAsync(client, vm, gpa: FaultScenario.Page);

        Assert.Equal(VcpuState.Halted, state);
        var resolution = await FaultScenario.FirstResolutionAsync(client, vm);
        Assert.Equal((1UL, FaultAction.Convert, false), (resolution.FaultId, resolution.Action, resolution.ByFallback));
        Assert.Equal(1, host.Services.GetRequiredService<FaultResolver>().Resolved);
        Assert.True(File.Exists(memsvc.GetSocketPath()), $"no socket at {memsvc.GetSocketPath()}");
        await host.StopAsync(ct);
    }
}
