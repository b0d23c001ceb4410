using MemSvc.Hypervisor.Simulated;
using static MemSvc.Hypervisor.Tests.Simulated.Sim;

namespace MemSvc.Hypervisor.Tests.Simulated;

/// <summary>SEMANTICS.md §3 (MA) on the simulated backend.</summary>
public class AttributeTests
{
    private static SimulatedVm PrivateVm() => NewHypervisor().CreateSimulatedVm(VmType.SwProtected);

    [Fact]
    public void MA_1_flags_are_checked_first()
    {
        using var vm = PrivateVm();
        var e = Throws(() => vm.SetMemoryAttributes(1, 0, (MemoryAttributes)1, flags: 1));
        Assert.Equal((Errno.EINVAL, "KVM_SET_MEMORY_ATTRIBUTES", "flags"), (e.Errno, e.Operation, e.Argument));
    }

    [Theory]
    [InlineData(1UL)]
    [InlineData(1UL << 4)]
    [InlineData((1UL << 3) | (1UL << 63))]
    public void MA_2_only_PRIVATE_is_supported(ulong attributes)
    {
        using var vm = PrivateVm();
        Assert.Equal("attributes", Throws(() => vm.SetMemoryAttributes(0, K4, (MemoryAttributes)attributes)).Argument);
    }

    [Theory]
    [InlineData(0UL, 0UL, "size")]
    [InlineData(0xfffffffffffff000UL, 0x2000UL, "size")]
    [InlineData(0x800UL, 0x1000UL, "address")]
    [InlineData(0x1000UL, 0x800UL, "size")]
    public void MA_3_MA_4_zero_wrapping_or_unaligned_ranges_are_EINVAL(ulong address, ulong size, string argument)
    {
        using var vm = PrivateVm();
        var e = Throws(() => vm.SetMemoryAttributes(address, size, MemoryAttributes.Private));
        Assert.Equal((Errno.EINVAL, argument), (e.Errno, e.Argument));
        Assert.Equal(0, vm.AttributeRunCount);
    }

    [Theory]
    [InlineData(VmType.Default)]
    public void Default_VM_has_no_attribute_ioctl_ENOTTY_for_every_input(VmType type)
    {
        using var vm = NewHypervisor().CreateSimulatedVm(type);
        Assert.Equal(Errno.ENOTTY, Throws(() => vm.SetMemoryAttributes(0, K4, MemoryAttributes.Private)).Errno);
        Assert.Equal(Errno.ENOTTY, Throws(() => vm.SetMemoryAttributes(0, K4, MemoryAttributes.None)).Errno);
        Assert.Equal(Errno.ENOTTY, Throws(() => vm.SetMemoryAttributes(1, 1, (MemoryAttributes)1, 1)).Errno);
        Assert.Equal([new AttributeRange(0, M, MemoryAttributes.None)], vm.GetMemoryAttributes(0, M));
    }

    [Fact]
    public void MA_6_MA_7_attributes_are_independent_of_memslots_and_overwrite()
    {
        using var vm = PrivateVm();
        vm.SetMemoryAttributes(0x10000, 0x10000, MemoryAttributes.Private);
        vm.SetMemoryAttributes(0x14000, 0x4000, MemoryAttributes.None);
        Assert.Equal(
            [
                new AttributeRange(0x8000, 0x8000, MemoryAttributes.None),
                new AttributeRange(0x10000, 0x4000, MemoryAttributes.Private),
                new AttributeRange(0x14000, 0x4000, MemoryAttributes.None),
                new AttributeRange(0x18000, 0x8000, MemoryAttributes.Private),
                new AttributeRange(0x20000, 0x1000, MemoryAttributes.None),
            ],
            vm.GetMemoryAttributes(0x8000, 0x19000));
    }

    [Fact]
    public void MA_8_setting_what_is_already_there_invalidates_nothing_and_MA_9_a_change_zaps()
    {
        var (vm, _) = VmWithSlot(VmType.SwProtected);
        vm.SetMemoryAttributes(0, 2 * M, MemoryAttributes.Private);
        Assert.IsType<VmExit.Halt>(RunProgram(vm, Write(0, K4, 1, AccessIntent.Private), new GuestStep.Halt()));
        var flushes = vm.FlushCount;
        vm.SetMemoryAttributes(0, K4, MemoryAttributes.Private);
        Assert.Equal(MappingLevel.Page4K, vm.GetMappingLevel(0));
        Assert.Equal(flushes, vm.FlushCount);
        vm.SetMemoryAttributes(0, K4, MemoryAttributes.None);
        Assert.Equal(MappingLevel.None, vm.GetMappingLevel(0));
        Assert.Equal(flushes + 1, vm.FlushCount);
    }

    [Fact]
    public void MA_10_attribute_changes_neither_free_nor_zero_data()
    {
        var (vm, gmem) = VmWithSlot(VmType.SwProtected);
        vm.WriteSharedMemory(0, [0x5a]);
        vm.SetMemoryAttributes(0, K4, MemoryAttributes.Private);
        Assert.IsType<VmExit.Halt>(RunProgram(vm, Write(0, K4, 0x6b, AccessIntent.Private), new GuestStep.Halt()));
        vm.SetMemoryAttributes(0, K4, MemoryAttributes.None);
        Assert.Equal(0x5a, ReadShared(vm, 0, 1)[0]);
        Assert.Equal(0x6b, gmem.Store.ReadByte(0));
    }

    [Fact]
    public void A_TiB_of_attributes_is_one_stored_run_and_splitting_it_adds_two()
    {
        using var vm = PrivateVm();
        vm.SetMemoryAttributes(0, TiB, MemoryAttributes.Private);
        Assert.Equal(1, vm.AttributeRunCount);
        vm.SetMemoryAttributes(TiB / 2, K4, MemoryAttributes.None);
        Assert.Equal(2, vm.AttributeRunCount);
        Assert.Equal(3, vm.GetMemoryAttributes(0, TiB).Count);
        vm.SetMemoryAttributes(0, TiB, MemoryAttributes.None);
        Assert.Equal(0, vm.AttributeRunCount);
    }

    [Fact]
    public void Get_on_an_empty_or_wrapping_range()
    {
        using var vm = PrivateVm();
        Assert.Empty(vm.GetMemoryAttributes(0x1000, 0));
        Assert.Equal(Errno.EINVAL, Throws(() => vm.GetMemoryAttributes(ulong.MaxValue - 0xfff, 0x2000)).Errno);
    }
}
