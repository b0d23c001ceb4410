using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using MemSvc.Hypervisor.Kvm;

namespace MemSvc.Hypervisor.Tests.Kvm;

/// <summary>
/// The uapi structs against the kernel's sizes and offsets (v6.18 include/uapi/linux/kvm.h and
/// arch/x86/include/uapi/asm/kvm.h, as compiled by gcc on x86-64), and the ioctl numbers against results.txt.
/// </summary>
public class UapiLayoutTests
{
    [Fact]
    public void Ioctl_numbers_match_the_probe()
    {
        // results.txt "ioctl numbers" line.
        Assert.Equal(0xae01UL, KvmIoctls.CreateVm);
        Assert.Equal(0xae03UL, KvmIoctls.CheckExtension);
        Assert.Equal(0x4068aea3UL, KvmIoctls.EnableCap);
        Assert.Equal(0xae80UL, KvmIoctls.Run);
        Assert.Equal(0x4020ae46UL, KvmIoctls.SetUserMemoryRegion);
        Assert.Equal(0x40a0ae49UL, KvmIoctls.SetUserMemoryRegion2);
        Assert.Equal(0x4020aed2UL, KvmIoctls.SetMemoryAttributes);
        Assert.Equal(0xc040aed4UL, KvmIoctls.CreateGuestMemfd);
    }

    [Fact]
    public void Other_ioctl_numbers_match_the_kernel_headers()
    {
        Assert.Equal(0xae00UL, KvmIoctls.GetApiVersion);
        Assert.Equal(0xae04UL, KvmIoctls.GetVcpuMmapSize);
        Assert.Equal(0xc008ae05UL, KvmIoctls.GetSupportedCpuid);
        Assert.Equal(0xae41UL, KvmIoctls.CreateVcpu);
        Assert.Equal(0x8090ae81UL, KvmIoctls.GetRegs);
        Assert.Equal(0x4090ae82UL, KvmIoctls.SetRegs);
        Assert.Equal(0x8138ae83UL, KvmIoctls.GetSregs);
        Assert.Equal(0x4138ae84UL, KvmIoctls.SetSregs);
        Assert.Equal(0x4008ae90UL, KvmIoctls.SetCpuid2);
    }

    [Fact]
    public void Memory_structs_have_the_kernel_layout()
    {
        AssertSize<KvmUserspaceMemoryRegion2>(160);
        AssertOffsets<KvmUserspaceMemoryRegion2>(("Slot", 0), ("Flags", 4), ("GuestPhysAddr", 8), ("MemorySize", 16), ("UserspaceAddr", 24), ("GuestMemfdOffset", 32), ("GuestMemfd", 40), ("Pad1", 44), ("Pad2", 48));
        AssertSize<KvmUserspaceMemoryRegion>(32);
        AssertOffsets<KvmUserspaceMemoryRegion>(("Slot", 0), ("Flags", 4), ("GuestPhysAddr", 8), ("MemorySize", 16), ("UserspaceAddr", 24));
        AssertSize<KvmCreateGuestMemfd>(64);
        AssertOffsets<KvmCreateGuestMemfd>(("Size", 0), ("Flags", 8), ("Reserved", 16));
        AssertSize<KvmMemoryAttributes>(32);
        AssertOffsets<KvmMemoryAttributes>(("Address", 0), ("Size", 8), ("Attributes", 16), ("Flags", 24));
        AssertSize<KvmEnableCap>(104);
        AssertOffsets<KvmEnableCap>(("Cap", 0), ("Flags", 4), ("Args", 8), ("Pad", 40));
    }

    [Fact]
    public void Register_structs_have_the_kernel_layout()
    {
        AssertSize<KvmRegs>(144);
        AssertOffsets<KvmRegs>(("Rax", 0), ("Rdi", 40), ("R8", 64), ("R15", 120), ("Rip", 128), ("Rflags", 136));
        AssertSize<KvmSegment>(24);
        AssertOffsets<KvmSegment>(("Base", 0), ("Limit", 8), ("Selector", 12), ("Type", 14), ("Present", 15), ("Dpl", 16), ("Db", 17), ("S", 18), ("L", 19), ("G", 20), ("Avl", 21), ("Unusable", 22), ("Padding", 23));
        AssertSize<KvmDtable>(16);
        AssertOffsets<KvmDtable>(("Base", 0), ("Limit", 8), ("Padding", 10));
        AssertSize<KvmSregs>(312);
        AssertOffsets<KvmSregs>(("Cs", 0), ("Ss", 120), ("Tr", 144), ("Ldt", 168), ("Gdt", 192), ("Idt", 208), ("Cr0", 224), ("Cr3", 240), ("Cr4", 248), ("Efer", 264), ("ApicBase", 272), ("InterruptBitmap", 280));
        AssertSize<KvmCpuidEntry2>(40);
        AssertOffsets<KvmCpuidEntry2>(("Function", 0), ("Index", 4), ("Flags", 8), ("Eax", 12), ("Edx", 24), ("Padding", 28));
        AssertSize<KvmCpuid2>(KvmCpuid2.HeaderSize);
    }

    [Fact]
    public void Kvm_run_has_the_kernel_layout()
    {
        AssertSize<KvmRun>(2352);
        AssertOffsets<KvmRun>(("RequestInterruptWindow", 0), ("ImmediateExit", 1), ("ExitReason", 8), ("ReadyForInterruptInjection", 12), ("IfFlag", 13), ("Flags", 14), ("Cr8", 16), ("ApicBase", 24), ("Io", 32), ("Mmio", 32), ("Hypercall", 32), ("Internal", 32), ("FailEntry", 32), ("MemoryFault", 32), ("KvmValidRegs", 288), ("KvmDirtyRegs", 296));

        // Members of the exit union, relative to the union (kvm_run offset = 32 + these).
        AssertOffsets<KvmRunIo>(("Direction", 0), ("Size", 1), ("Port", 2), ("Count", 4), ("DataOffset", 8));
        AssertOffsets<KvmRunMmio>(("PhysAddr", 0), ("Data", 8), ("Len", 16), ("IsWrite", 20));
        AssertOffsets<KvmRunHypercall>(("Nr", 0), ("Args", 8), ("Ret", 56), ("Flags", 64));
        AssertOffsets<KvmRunInternal>(("Suberror", 0), ("Ndata", 4), ("Data", 8));
        AssertOffsets<KvmRunFailEntry>(("HardwareEntryFailureReason", 0), ("Cpu", 8));
        AssertOffsets<KvmRunMemoryFault>(("Flags", 0), ("Gpa", 8), ("Size", 16));
        AssertSize<KvmRunMemoryFault>(24);
    }

    private static void AssertSize<T>(int expected)
        where T : unmanaged
    {
        Assert.Equal(expected, Unsafe.SizeOf<T>());
        Assert.Equal(expected, Marshal.SizeOf<T>());
    }

    private static void AssertOffsets<T>(params (string Field, int Offset)[] fields)
    {
        foreach (var (field, offset) in fields)
        {
            Assert.Equal((field, offset), (field, (int)Marshal.OffsetOf<T>(field)));
        }
    }
}
