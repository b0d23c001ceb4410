using MemSvc.Hypervisor.Simulated;

namespace MemSvc.Hypervisor.Tests.Simulated;

/// <summary>Shorthands for the simulated tests: sizes, a VM with one guest_memfd slot, programs.</summary>
internal static class Sim
{
    public const ulong K4 = 4096;
    public const ulong M = 1UL << 20;
    public const ulong M2 = 2 * M;
    public const ulong G = 1UL << 30;
    public const ulong TiB = 1UL << 40;

    public static SimulatedHypervisor NewHypervisor() => new();

    /// <summary>A hypervisor that is the host profile called <paramref name="profile"/>.</summary>
    public static SimulatedHypervisor NewHypervisor(string profile) =>
        new(new SimulatedHypervisorOptions { Profile = SimulatedHostProfile.ByName(profile) });

    /// <summary>A VM with a guest_memfd of <paramref name="size"/> bound at <paramref name="gpa"/> as slot 0 with anonymous shared memory.</summary>
    public static (SimulatedVm Vm, SimulatedGuestMemfd Gmem) VmWithSlot(
        VmType type, ulong gpa = 0, ulong size = 4 * M, GuestMemfdFlags flags = GuestMemfdFlags.None, SimulatedHypervisor? hv = null)
    {
        var vm = (hv ?? NewHypervisor()).CreateSimulatedVm(type);
        var gmem = vm.CreateSimulatedGuestMemfd(size, flags);
        vm.SetUserMemoryRegion(new MemoryRegion(0, MemoryRegionFlags.GuestMemfd, gpa, size, SharedBacking.Anonymous, gmem, 0));
        return (vm, gmem);
    }

    public static GuestProgram Program(params GuestStep[] steps) => new(steps);

    public static GuestStep.WritePattern Write(ulong gpa, ulong length, byte pattern, AccessIntent intent = AccessIntent.Shared) =>
        new(gpa, length, pattern, intent);

    public static GuestStep.CheckPattern Check(ulong gpa, ulong length, byte pattern, AccessIntent intent = AccessIntent.Shared) =>
        new(gpa, length, pattern, intent);

    public static VmExit RunProgram(IVm vm, params GuestStep[] steps)
    {
        var vcpu = vm.CreateVcpu(0);
        vcpu.LoadProgram(Program(steps));
        return vcpu.Run();
    }

    public static byte[] ReadShared(IVm vm, ulong gpa, int length)
    {
        var buffer = new byte[length];
        vm.ReadSharedMemory(gpa, buffer);
        return buffer;
    }

    public static HypervisorException Throws(Action action) => Assert.Throws<HypervisorException>(action);
}
