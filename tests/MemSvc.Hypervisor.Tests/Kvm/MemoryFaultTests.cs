using MemSvc.Hypervisor.Tests.Capabilities;

namespace MemSvc.Hypervisor.Tests.Kvm;

/// <summary>
/// The real KVM_EXIT_MEMORY_FAULT of the probe's memfault.c: a gmem-only slot whose guest_memfd loses its last
/// reference (the slot's mapping unmapped, the fd closed) while the slot stays bound.
/// </summary>
public class MemoryFaultTests
{
    private const ulong M = KvmRig.M;
    private const GuestMemfdFlags MmapShared = GuestMemfdFlags.Mmap | GuestMemfdFlags.InitShared;

    [Fact]
    public void Dropping_a_bound_gmem_only_slots_file_faults_until_the_slot_is_rebound()
    {
        var (rig, vcpu) = KvmRig.WithAnonymousSlotAndVcpu(HostNeed.GuestMemfdMmapShared | HostNeed.MemoryFaultInfo);
        using var _ = rig;
        var vm = rig.Vm;
        var memfd = vm.CreateGuestMemfd(2 * M, MmapShared);
        vm.SetUserMemoryRegion(GmemOnlySlot(memfd));
        vcpu.LoadProgram(new GuestProgram(
        [
            new GuestStep.Report(1),
            new GuestStep.WritePattern((8 * M) + 0x100, 16, 0x5a, AccessIntent.Shared),
            new GuestStep.CheckPattern((8 * M) + 0x100, 16, 0x5a, AccessIntent.Shared),
            new GuestStep.Report(2),
        ]));
        Assert.Equal(new VmExit.PortIo(GuestProgram.ReportPort, true, 4, 1), vcpu.Run());

        vm.UnmapSharedBacking(2);
        memfd.Dispose();
        var fault = new VmExit.MemoryFault(8 * M, 4096, MemoryFaultFlags.None);
        for (var i = 0; i < 3; i++)
        {
            var exit = Assert.IsType<VmExit.MemoryFault>(vcpu.Run());
            Assert.Equal(fault, exit);
            Assert.False(exit.IsPrivate);
        }

        Assert.Equal(Errno.EFAULT, KvmRig.Fails(() => vm.ReadSharedMemory(8 * M, new byte[1])).Errno);

        vm.SetUserMemoryRegion(MemoryRegion.Delete(2));
        using var fresh = vm.CreateGuestMemfd(2 * M, MmapShared);
        vm.SetUserMemoryRegion(GmemOnlySlot(fresh));
        Assert.Equal(new VmExit.PortIo(GuestProgram.ReportPort, true, 4, 2), vcpu.Run());
        Assert.Equal(new VmExit.Halt(), vcpu.Run());

        var written = new byte[16];
        fresh.ReadMapped(0x100, written);
        Assert.All(written, b => Assert.Equal(0x5a, b));
        vm.ReadSharedMemory((8 * M) + 0x100, written);
        Assert.All(written, b => Assert.Equal(0x5a, b));
    }

    [Fact]
    public void A_gmem_only_slot_serves_the_guest_from_the_files_pages()
    {
        var (rig, vcpu) = KvmRig.WithAnonymousSlotAndVcpu(HostNeed.GuestMemfdMmapShared);
        using var _ = rig;
        using var memfd = rig.Vm.CreateGuestMemfd(2 * M, MmapShared);
        memfd.WriteMapped(0x2000, Enumerable.Repeat((byte)0xaa, 4096).ToArray());
        rig.Vm.SetUserMemoryRegion(GmemOnlySlot(memfd));
        vcpu.LoadProgram(new GuestProgram(
        [
            new GuestStep.CheckPattern((8 * M) + 0x2000, 4096, 0xaa, AccessIntent.Shared),
            new GuestStep.WritePattern((8 * M) + 0x2000, 4096, 0xff, AccessIntent.Shared),
            new GuestStep.Report(1),
        ]));
        Assert.Equal(new VmExit.PortIo(GuestProgram.ReportPort, true, 4, 1), vcpu.Run());
        var page = new byte[4096];
        memfd.ReadMapped(0x2000, page);
        Assert.All(page, b => Assert.Equal(0xff, b));
    }

    private static MemoryRegion GmemOnlySlot(IGuestMemfd memfd) =>
        new(2, MemoryRegionFlags.GuestMemfd, 8 * M, 2 * M, SharedBacking.GuestMemfdMapping, memfd, 0);
}
