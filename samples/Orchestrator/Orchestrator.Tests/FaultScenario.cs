using MemSvc.Client;
using MemSvc.Client.Events;
using MemSvc.Contracts.V1;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;

namespace Orchestrator.Tests;

/// <summary>
/// One confidential VM whose vCPU writes to private memory it does not have yet: the memory fault waits for an
/// orchestrator, and only the orchestrator can end it (the VM's own fallback is ten minutes away).
/// </summary>
internal static class FaultScenario
{
    public const ulong Page = 4096;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>The orchestrator as Program runs it, with its settings given here instead of appsettings.json.</summary>
    public static async Task<IHost> StartOrchestratorAsync(params (string Key, string Value)[] settings)
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Configuration.AddInMemoryCollection(settings.Select(s => KeyValuePair.Create(s.Key, (string?)s.Value)));
        builder.Services.AddOrchestrator(builder.Configuration);
        var host = builder.Build();
        await host.StartAsync(Ct);
        return host;
    }

    /// <summary>An sw-protected VM, faults left to the orchestrator, with a shared 2 MiB guest_memfd at gpa 0.</summary>
    public static async Task<Vm> CreateVmAsync(MemSvcClient client, string id)
    {
        var vm = await client.Vms.CreateAsync(new CreateVmRequest
        {
            VmId = id,
            Backend = Backend.Simulated,
            VmType = VmType.SwProtected,
            VcpuCount = 1,
            FaultPolicy = FaultPolicy.Orchestrator,
            ResolutionTimeout = Google.Protobuf.WellKnownTypes.Duration.FromTimeSpan(TimeSpan.FromMinutes(10)),
            TimeoutFallback = FaultAction.Fail,
        }, Ct);
        var memory = await client.Memory.CreateGuestMemfdAsync(vm.Name, 2 << 20, [], Ct);
        await client.Memory.SetMemoryRegionAsync(new SetMemoryRegionRequest
        {
            Parent = vm.Name,
            Slot = 0,
            Gpa = 0,
            Size = 2 << 20,
            Flags = { MemoryRegionFlag.GuestMemfd },
            GuestMemfd = memory.Name,
        }, Ct);
        return vm;
    }

    /// <summary>Runs a guest that writes one private page at <paramref name="gpa"/>, then halts; returns how its vCPU ended.</summary>
    public static async Task<VcpuState> RunPrivateWriteAsync(MemSvcClient client, Vm vm, ulong gpa)
    {
        var program = new GuestProgram();
        program.Steps.Add(new GuestStep { WritePattern = new WritePatternStep { Gpa = gpa, Length = Page, Pattern = 0x5a, Intent = AccessIntent.Private } });
        program.Steps.Add(new GuestStep { Halt = new HaltStep() });
        await client.Vcpus.LoadProgramAsync(vm.Name, 0, program, Ct);
        await client.Vcpus.StartAsync(vm.Name, 0, Ct);
        while (true)
        {
            var vcpu = await client.Vcpus.GetAsync(vm.Name, 0, Ct);
            if (vcpu.State is VcpuState.Halted or VcpuState.Failed or VcpuState.Shutdown)
            {
                return vcpu.State;
            }

            await Task.Delay(10, Ct);
        }
    }

    /// <summary>How the VM's first fault was resolved, from its event journal.</summary>
    public static async Task<FaultResolvedEvent> FirstResolutionAsync(MemSvcClient client, Vm vm)
    {
        var watch = new WatchOptions { Vm = vm.Name, StartSequence = 1, Kinds = [EventKind.FaultResolved] };
        var resolved = await client.Events.WatchAsync(watch, Ct).FirstAsync(Ct);
        return resolved.FaultResolved;
    }
}
