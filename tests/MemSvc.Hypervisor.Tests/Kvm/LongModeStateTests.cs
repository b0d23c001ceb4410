using MemSvc.Hypervisor.Kvm;

namespace MemSvc.Hypervisor.Tests.Kvm;

/// <summary>The CPL3 long-mode state and the boot layout, as the probe's guest.h M_U64 builds them.</summary>
public class LongModeStateTests
{
    [Fact]
    public void Sregs_are_flat_cpl3_long_mode_over_the_boot_page_tables()
    {
        var sregs = LongModeState.Sregs(default);
        Assert.Equal(0x8005_0033UL, sregs.Cr0);
        Assert.Equal(0x20UL, sregs.Cr4);
        Assert.Equal(0x500UL, sregs.Efer);
        Assert.Equal(0xFFC0_2000UL, sregs.Cr3);
        Assert.Equal((ushort)0x1b, sregs.Cs.Selector);
        Assert.Equal((3, 1, 0, 0xb), (sregs.Cs.Dpl, sregs.Cs.L, sregs.Cs.Db, sregs.Cs.Type));
        Assert.Equal((ushort)0x23, sregs.Ss.Selector);
        Assert.Equal((3, 0, 1, 0x3), (sregs.Ss.Dpl, sregs.Ss.L, sregs.Ss.Db, sregs.Ss.Type));
        Assert.Equal(sregs.Ss, sregs.Ds);
        Assert.Equal((0xFFC0_1000UL, 0x88U, (ushort)0x28, (byte)0xb, (byte)0), (sregs.Tr.Base, sregs.Tr.Limit, sregs.Tr.Selector, sregs.Tr.Type, sregs.Tr.S));
        Assert.Equal((0xFFC0_0000UL, (ushort)63), (sregs.Gdt.Base, sregs.Gdt.Limit));
        Assert.Equal((ushort)0, sregs.Idt.Limit);
    }

    [Fact]
    public void Regs_start_at_the_code_with_iopl3()
    {
        var regs = LongModeState.Regs(BootLayout.CodeGpa(1), BootLayout.StackTopGpa(1));
        Assert.Equal((0xFFC8_8000UL, 0xFFC9_0000UL, 0x3002UL), (regs.Rip, regs.Rsp, regs.Rflags));
    }

    [Fact]
    public void The_boot_memory_is_4_MiB_below_4_GiB_with_room_for_112_vcpus()
    {
        Assert.Equal(new GpaRange(0xFFC0_0000, 0x40_0000), BootLayout.Range);
        Assert.Equal(0x1_0000_0000UL, BootLayout.Range.End);
        Assert.Equal(112, BootLayout.VcpuCapacity);
        Assert.Equal(BootLayout.Range.End, BootLayout.StackTopGpa(BootLayout.VcpuCapacity - 1));
        Assert.Equal(64UL << 30, BootLayout.IdentityMapLimit);
    }
}
