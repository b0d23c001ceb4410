using MemSvc.Core.Errors;
using MemSvc.Core.Events;
using MemSvc.Core.Memory;
using MemSvc.Core.Vms;
using MemSvc.Hypervisor;
using static MemSvc.Core.Tests.Support.Core;

namespace MemSvc.Core.Tests.Memory;

public class ConvertMemoryTests
{
    private const ulong Gpa = 0x1_0000_0000;

    [Fact]
    public async Task Converting_to_private_sets_the_attribute_and_discards_the_shared_side()
    {
        await using var manager = Manager();
        var memfd = NewVm(manager);
        manager.Memory.WriteGuestMemory(Alice, "conv", Gpa, Fill(0x5a, 3 * K4));

        var result = manager.Memory.ConvertMemory(Alice, "conv", Gpa + K4, K4, toPrivate: true);

        Assert.Equal(new ConversionResult("conv", Gpa + K4, K4, true, 1), result);
        Assert.Equal(
            [new AttributeRange(Gpa, K4, MemoryAttributes.None), new(Gpa + K4, K4, MemoryAttributes.Private), new(Gpa + (2 * K4), (4 * M) - (2 * K4), MemoryAttributes.None)],
            manager.Memory.GetMemoryAttributes(Alice, "conv", Gpa, 4 * M));

        manager.Memory.ConvertMemory(Alice, "conv", Gpa + K4, K4, toPrivate: false);
        Assert.Equal(Fill(0x5a, K4), manager.Memory.ReadGuestMemory(Alice, "conv", Gpa, K4));
        Assert.Equal(new byte[K4], manager.Memory.ReadGuestMemory(Alice, "conv", Gpa + K4, K4));
        Assert.Equal(Fill(0x5a, K4), manager.Memory.ReadGuestMemory(Alice, "conv", Gpa + (2 * K4), K4));
        Assert.Equal(memfd.Id, manager.MemoryRegions.GetMemoryRegion(Alice, "conv", 0).GuestMemfdId);
    }

    [Fact]
    public async Task Converting_to_shared_punches_the_guest_memfd_so_private_data_reads_zero_after_a_round_trip()
    {
        await using var manager = Manager();
        NewVm(manager);
        manager.Memory.ConvertMemory(Alice, "conv", Gpa, K4, toPrivate: true);
        manager.Vcpus.LoadGuestProgram(Alice, "conv", 0, Program(Write(Gpa, K4, 0x42, AccessIntent.Private), Check(Gpa, K4, 0x42, AccessIntent.Private), new GuestStep.Halt()));
        await RunToEnd(manager);

        manager.Memory.ConvertMemory(Alice, "conv", Gpa, K4, toPrivate: false);
        manager.Memory.ConvertMemory(Alice, "conv", Gpa, K4, toPrivate: true);
        manager.Vcpus.LoadGuestProgram(Alice, "conv", 0, Program(Check(Gpa, K4, 0x00, AccessIntent.Private), new GuestStep.Halt()));
        await RunToEnd(manager);

        Assert.Equal(MemSvc.Core.Vcpus.VcpuState.Halted, manager.Vcpus.GetVcpu(Alice, "conv", 0).State);
        var applied = (await Until(manager.Events.WatchEvents(Alice, "conv", 1, new EventFilter(new HashSet<EventKind> { EventKind.ConversionApplied }, new HashSet<int>()), cancellationToken: Ct), e => e.Count == 3))
            .Select(e => (EventPayload.ConversionApplied)e.Payload).ToList();
        Assert.Equal([true, false, true], applied.Select(a => a.ToPrivate));
        Assert.All(applied, a => Assert.Equal((ConversionInitiator.Api, 0UL, (int?)null), (a.Initiator, a.FaultId, a.Vcpu)));
    }

    [Fact]
    public async Task A_conversion_spanning_two_slots_of_one_guest_memfd_applies_to_both()
    {
        await using var manager = Manager();
        var memfd = NewVm(manager);
        manager.MemoryRegions.SetMemoryRegion(Alice, "conv", new() { Slot = 1, Gpa = Gpa + (4 * M), Size = 4 * M, Flags = MemoryRegionFlags.GuestMemfd, GuestMemfdId = memfd.Id, GuestMemfdOffset = 4 * M });

        manager.Memory.ConvertMemory(Alice, "conv", Gpa + (4 * M) - K4, 2 * K4, toPrivate: true);

        Assert.Equal(
            [new AttributeRange(Gpa + (4 * M) - (2 * K4), K4, MemoryAttributes.None), new(Gpa + (4 * M) - K4, 2 * K4, MemoryAttributes.Private), new(Gpa + (4 * M) + K4, K4, MemoryAttributes.None)],
            manager.Memory.GetMemoryAttributes(Alice, "conv", Gpa + (4 * M) - (2 * K4), 4 * K4));
    }

    [Theory]
    [InlineData(0x0_8000_0000UL, 4096UL)] // no memslot at all
    [InlineData(0x1_0000_0000UL + (4 << 20) - 4096, 8192UL)] // runs past the slot's end
    [InlineData(0x2_0000_0000UL, 4096UL)] // a slot without a guest_memfd
    public async Task A_range_not_covered_by_guest_memfd_slots_is_refused_and_changes_nothing(ulong gpa, ulong size)
    {
        await using var manager = Manager();
        NewVm(manager);
        manager.MemoryRegions.SetMemoryRegion(Alice, "conv", new() { Slot = 5, Gpa = 0x2_0000_0000, Size = M });
        var before = manager.Memory.GetMemoryAttributes(Alice, "conv", 0, 0x3_0000_0000);

        var error = Assert.Throws<CoreException>(() => manager.Memory.ConvertMemory(Alice, "conv", gpa, size, toPrivate: true));

        Assert.Equal((ErrorKind.FailedPrecondition, ErrorReasons.RangeNotPrivateCapable, "gpa"), (error.Kind, error.Reason, error.Field));
        Assert.Equal(before, manager.Memory.GetMemoryAttributes(Alice, "conv", 0, 0x3_0000_0000));

        // Nothing was journaled either: the next conversion is the journal's first event.
        Assert.Equal(1UL, manager.Memory.ConvertMemory(Alice, "conv", Gpa, K4, toPrivate: true).Sequence);
    }

    [Fact]
    public async Task Reads_and_writes_refuse_private_pages_and_write_nothing()
    {
        await using var manager = Manager();
        NewVm(manager);
        manager.Memory.WriteGuestMemory(Alice, "conv", Gpa, Fill(0x11, 2 * K4));
        manager.Memory.SetMemoryAttributes(Alice, "conv", Gpa + K4, K4, MemoryAttributes.Private);

        var read = Assert.Throws<CoreException>(() => manager.Memory.ReadGuestMemory(Alice, "conv", Gpa + K4 - 1, 2));
        Assert.Equal((ErrorKind.FailedPrecondition, ErrorReasons.MemoryIsPrivate, "0x100001000"), (read.Kind, read.Reason, read.Metadata["gpa"]));
        var write = Assert.Throws<CoreException>(() => manager.Memory.WriteGuestMemory(Alice, "conv", Gpa, Fill(0x22, (2 * K4) - 1)));
        Assert.Equal(ErrorReasons.MemoryIsPrivate, write.Reason);
        Assert.Equal(Fill(0x11, K4), manager.Memory.ReadGuestMemory(Alice, "conv", Gpa, K4));
    }

    internal static GuestMemfdInfo NewVm(VmManager manager)
    {
        manager.Vms.CreateVm(Alice, new() { VmId = "conv", VmType = VmType.SwProtected });
        var memfd = manager.GuestMemfds.CreateGuestMemfd(Alice, "conv", 8 * M, GuestMemfdFlags.None);
        manager.MemoryRegions.SetMemoryRegion(Alice, "conv", new() { Slot = 0, Gpa = Gpa, Size = 4 * M, Flags = MemoryRegionFlags.GuestMemfd, GuestMemfdId = memfd.Id });
        return memfd;
    }

    internal static byte[] Fill(byte value, ulong length) => Enumerable.Repeat(value, (int)length).ToArray();

    private static async Task RunToEnd(VmManager manager)
    {
        var watch = Until(manager.Events.WatchEvents(Alice, "conv", 0, cancellationToken: Ct), e => AllFinished(e, 1));
        manager.Vcpus.StartVcpu(Alice, "conv", 0);
        await watch;
    }
}
