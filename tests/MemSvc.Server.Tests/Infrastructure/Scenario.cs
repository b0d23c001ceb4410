using MemSvc.Contracts.V1;
using static MemSvc.Server.Tests.Infrastructure.Steps;

namespace MemSvc.Server.Tests.Infrastructure;

/// <summary>Set-ups many tests share: a VM with a guest_memfd bound to memslots.</summary>
public static class Scenario
{
    /// <summary>
    /// A simulated VM with one 64 MiB guest_memfd bound to two 32 MiB memslots (slot 0 at gpa 0, slot 1 at
    /// 32 MiB), all of it shared.
    /// </summary>
    public static async Task<Vm> VmWithMemoryAsync(
        Clients clients, string vmId, FaultPolicy policy = FaultPolicy.Auto, uint vcpus = 1, VmType type = VmType.SwProtected,
        Google.Protobuf.WellKnownTypes.Duration? resolutionTimeout = null, FaultAction fallback = FaultAction.Unspecified)
    {
        var ct = TestContext.Current.CancellationToken;
        var vm = (await clients.Vms.CreateVmAsync(
            new CreateVmRequest
            {
                VmId = vmId,
                Backend = Backend.Simulated,
                VmType = type,
                VcpuCount = vcpus,
                FaultPolicy = policy,
                ResolutionTimeout = resolutionTimeout,
                TimeoutFallback = fallback,
            },
            cancellationToken: ct)).Vm;
        var memfd = (await clients.Memory.CreateGuestMemfdAsync(new CreateGuestMemfdRequest { Parent = vm.Name, Size = 64 * MiB }, cancellationToken: ct)).GuestMemfd;
        for (uint slot = 0; slot < 2; slot++)
        {
            var region = new SetMemoryRegionRequest
            {
                Parent = vm.Name,
                Slot = slot,
                Gpa = slot * 32 * MiB,
                Size = 32 * MiB,
                GuestMemfd = memfd.Name,
                GuestMemfdOffset = slot * 32 * MiB,
            };
            region.Flags.Add(MemoryRegionFlag.GuestMemfd);
            await clients.Memory.SetMemoryRegionAsync(region, cancellationToken: ct);
        }

        return vm;
    }
}
