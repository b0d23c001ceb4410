using MemSvc.Contracts.V1;

namespace MemSvc.Client.Tests.Infrastructure;

/// <summary>VMs with memory, set up through the SDK itself.</summary>
public static class Memory
{
    public const ulong MiB = 1024 * 1024;

    /// <summary>An sw-protected simulated VM with a 64 MiB guest_memfd behind two 32 MiB memslots.</summary>
    public static async Task<Vm> VmWithMemoryAsync(MemSvcClient client, string id, FaultPolicy policy, uint vcpus = 2)
    {
        var ct = TestContext.Current.CancellationToken;
        var vm = await client.Vms.CreateAsync(new CreateVmRequest
        {
            VmId = id,
            Backend = Backend.Simulated,
            VmType = VmType.SwProtected,
            VcpuCount = vcpus,
            FaultPolicy = policy,
        }, ct);
        var gmem = await client.Memory.CreateGuestMemfdAsync(vm.Name, 64 * MiB, [], ct);
        for (uint slot = 0; slot < 2; slot++)
        {
            await client.Memory.SetMemoryRegionAsync(new SetMemoryRegionRequest
            {
                Parent = vm.Name,
                Slot = slot,
                Gpa = slot * 32 * MiB,
                Size = 32 * MiB,
                Flags = { MemoryRegionFlag.GuestMemfd },
                GuestMemfd = gmem.Name,
                GuestMemfdOffset = slot * 32 * MiB,
            }, ct);
        }

        return vm;
    }

    /// <summary>A program of <paramref name="reports"/> report steps and a halt: that many GUEST_REPORT events, quickly.</summary>
    public static GuestProgram Reporter(int reports)
    {
        var program = new GuestProgram();
        for (var i = 0; i < reports; i++)
        {
            program.Steps.Add(new GuestStep { Report = new ReportStep { Value = (uint)i } });
        }

        program.Steps.Add(new GuestStep { Halt = new HaltStep() });
        return program;
    }

    /// <summary>Polls until the vCPU left RUNNING/WAITING (the watch tests must not depend on a watcher for this).</summary>
    public static async Task<Vcpu> WaitFinishedAsync(MemSvcClient client, string vm, uint index)
    {
        var ct = TestContext.Current.CancellationToken;
        while (true)
        {
            var vcpu = await client.Vcpus.GetAsync(vm, index, ct);
            if (vcpu.State is VcpuState.Halted or VcpuState.Failed or VcpuState.Shutdown)
            {
                return vcpu;
            }

            await Task.Delay(10, ct);
        }
    }
}
