using MemSvc.Contracts.V1;
using static MemSvc.IntegrationTests.Infrastructure.MemSvcClients;

namespace MemSvc.IntegrationTests.Infrastructure;

/// <summary>
/// The main flow the container tests drive: an ORCHESTRATOR VM with a 2 MiB guest_memfd slot, a vCPU whose private
/// write to a shared page faults, the fault watched and resolved by converting.
/// </summary>
internal static class FaultFlow
{
    /// <summary>Runs the flow on a new VM <paramref name="vmId"/> and returns the fault it resolved.</summary>
    public static async Task<MemoryFaultEvent> FaultAndConvertAsync(MemSvcClients api, string vmId, ulong gpa, CancellationToken ct)
    {
        var vm = "vms/" + vmId;
        await api.Vms.CreateVmAsync(new CreateVmRequest
        {
            VmId = vmId,
            Backend = Backend.Simulated,
            VmType = VmType.SwProtected,
            VcpuCount = 1,
            FaultPolicy = FaultPolicy.Orchestrator,
        }, cancellationToken: ct);
        await api.BindGuestMemfdSlotAsync(vm, 2 * MiB, ct);
        await using var watcher = new EventStream(api.Events, vm, startSequence: 1);
        await api.Vcpus.LoadGuestProgramAsync(new LoadGuestProgramRequest
        {
            Name = vm + "/vcpus/0",
            Program = Program(Write(gpa, Page, 0x5A, AccessIntent.Private), Halt()),
        }, cancellationToken: ct);
        await api.Vcpus.StartVcpuAsync(new StartVcpuRequest { Name = vm + "/vcpus/0" }, cancellationToken: ct);

        MemoryFaultEvent fault;
        do
        {
            var e = await watcher.NextAsync(TimeSpan.FromSeconds(30), "the memory fault");
            fault = e.MemoryFault;
        }
        while (fault is null);

        await api.Events.ResolveFaultAsync(new ResolveFaultRequest { Vm = vm, FaultId = fault.FaultId, Action = FaultAction.Convert }, cancellationToken: ct);
        return fault;
    }
}
