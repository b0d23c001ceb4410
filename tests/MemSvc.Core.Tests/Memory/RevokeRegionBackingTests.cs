using MemSvc.Core.Events;
using MemSvc.Core.Memory;
using MemSvc.Core.Vcpus;
using MemSvc.Core.Vms;
using MemSvc.Hypervisor;
using static MemSvc.Core.Tests.Support.Core;

namespace MemSvc.Core.Tests.Memory;

public class RevokeRegionBackingTests
{
    private const ulong Gpa = 0x1_0000_0000;

    [Fact]
    public async Task A_revoked_gmem_only_slot_faults_until_it_is_deleted_and_set_again()
    {
        await using var manager = Manager();
        manager.Vms.CreateVm(Alice, new() { VmId = "rv" });
        var memfd = manager.GuestMemfds.CreateGuestMemfd(Alice, "rv", 2 * M, GuestMemfdFlags.Mmap | GuestMemfdFlags.InitShared);
        var gmemOnly = new SetMemoryRegionRequest { Slot = 0, Gpa = Gpa, Size = 2 * M, Flags = MemoryRegionFlags.GuestMemfd, GuestMemfdId = memfd.Id, SharedBacking = SharedBackingKind.GuestMemfd };
        manager.MemoryRegions.SetMemoryRegion(Alice, "rv", gmemOnly);
        var program = Program(Write(Gpa, K4, 0x5a, AccessIntent.Shared), Check(Gpa, K4, 0x5a, AccessIntent.Shared), new GuestStep.Halt());
        manager.Vcpus.LoadGuestProgram(Alice, "rv", 0, program);
        Assert.Equal(VcpuState.Halted, (await Run(manager)).State);

        var revoked = manager.MemoryRegions.RevokeRegionBacking(Alice, "rv", 0);

        Assert.True(revoked.BackingRevoked);
        Assert.Equal(memfd.Id, revoked.GuestMemfdId);
        Assert.Empty(manager.GuestMemfds.ListGuestMemfds(Alice, "rv"));
        Assert.Equal(revoked, manager.MemoryRegions.RevokeRegionBacking(Alice, "rv", 0));
        manager.Vcpus.LoadGuestProgram(Alice, "rv", 0, program);
        var failed = await Run(manager);
        Assert.Equal(VcpuState.Failed, failed.State);
        Assert.Equal("fault 1: the page at 0x100000000 is already shared; converting cannot resolve it", failed.Reason);

        manager.MemoryRegions.DeleteMemoryRegion(Alice, "rv", 0);
        var fresh = manager.GuestMemfds.CreateGuestMemfd(Alice, "rv", 2 * M, GuestMemfdFlags.Mmap | GuestMemfdFlags.InitShared);
        manager.MemoryRegions.SetMemoryRegion(Alice, "rv", gmemOnly with { GuestMemfdId = fresh.Id });
        manager.Vcpus.LoadGuestProgram(Alice, "rv", 0, program);
        Assert.Equal(VcpuState.Halted, (await Run(manager)).State);
    }

    private static async Task<EventPayload.VcpuStateChanged> Run(VmManager manager)
    {
        var watch = Until(manager.Events.WatchEvents(Alice, "rv", 0, cancellationToken: Ct), e => AllFinished(e, 1));
        manager.Vcpus.StartVcpu(Alice, "rv", 0);
        return (EventPayload.VcpuStateChanged)(await watch)[^1].Payload;
    }
}
