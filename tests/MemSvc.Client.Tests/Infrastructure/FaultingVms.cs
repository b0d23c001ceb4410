using MemSvc.Contracts.V1;

namespace MemSvc.Client.Tests.Infrastructure;

/// <summary>Small simulated VMs whose one vCPU faults on every step: what an orchestrator has to keep up with.</summary>
public static class FaultingVms
{
    private const ulong Page = 4096;

    /// <summary>An sw-protected VM with one vCPU and a 2 MiB guest_memfd bound at gpa 0, all of it shared.</summary>
    public static async Task<Vm> CreateAsync(
        MemSvcClient client, string id, FaultPolicy policy = FaultPolicy.Orchestrator, TimeSpan? resolutionTimeout = null, FaultAction fallback = FaultAction.Convert)
    {
        var ct = TestContext.Current.CancellationToken;
        var vm = await client.Vms.CreateAsync(new CreateVmRequest
        {
            VmId = id,
            Backend = Backend.Simulated,
            VmType = VmType.SwProtected,
            VcpuCount = 1,
            FaultPolicy = policy,
            ResolutionTimeout = resolutionTimeout is { } timeout ? Google.Protobuf.WellKnownTypes.Duration.FromTimeSpan(timeout) : null,
            TimeoutFallback = fallback,
        }, ct);
        var gmem = await client.Memory.CreateGuestMemfdAsync(vm.Name, 2 << 20, [], ct);
        await client.Memory.SetMemoryRegionAsync(new SetMemoryRegionRequest
        {
            Parent = vm.Name,
            Slot = 0,
            Gpa = 0,
            Size = 2 << 20,
            Flags = { MemoryRegionFlag.GuestMemfd },
            GuestMemfd = gmem.Name,
        }, ct);
        return vm;
    }

    /// <summary>
    /// <paramref name="faults"/> writes to one shared page, private and shared in turn, then a halt: each write faults
    /// once, and converting it lets the next step run.
    /// </summary>
    public static GuestProgram Flipping(int faults)
    {
        var program = new GuestProgram();
        for (var i = 0; i < faults; i++)
        {
            var intent = i % 2 == 0 ? AccessIntent.Private : AccessIntent.Shared;
            program.Steps.Add(new GuestStep { WritePattern = new WritePatternStep { Gpa = Page, Length = Page, Pattern = (uint)i & 0xff, Intent = intent } });
        }

        program.Steps.Add(new GuestStep { Halt = new HaltStep() });
        return program;
    }

    public static async Task StartAsync(MemSvcClient client, Vm vm, int faults)
    {
        var ct = TestContext.Current.CancellationToken;
        await client.Vcpus.LoadProgramAsync(vm.Name, 0, Flipping(faults), ct);
        await client.Vcpus.StartAsync(vm.Name, 0, ct);
    }
}
