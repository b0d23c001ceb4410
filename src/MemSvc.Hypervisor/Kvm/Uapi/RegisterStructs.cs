using System.Runtime.InteropServices;

namespace MemSvc.Hypervisor.Kvm;

// The x86 register structs of arch/x86/include/uapi/asm/kvm.h (v6.18), checked by UapiLayoutTests.

/// <summary>struct kvm_regs (144 bytes): KVM_GET_REGS / KVM_SET_REGS.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct KvmRegs
{
    public ulong Rax, Rbx, Rcx, Rdx;
    public ulong Rsi, Rdi, Rsp, Rbp;
    public ulong R8, R9, R10, R11;
    public ulong R12, R13, R14, R15;
    public ulong Rip, Rflags;
}

/// <summary>struct kvm_segment (24 bytes).</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct KvmSegment
{
    public ulong Base;
    public uint Limit;
    public ushort Selector;
    public byte Type;
    public byte Present, Dpl, Db, S, L, G, Avl;
    public byte Unusable;
    public byte Padding;
}

/// <summary>struct kvm_dtable (16 bytes): GDTR / IDTR.</summary>
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct KvmDtable
{
    public ulong Base;
    public ushort Limit;
    public fixed ushort Padding[3];
}

/// <summary>struct kvm_sregs (312 bytes): KVM_GET_SREGS / KVM_SET_SREGS.</summary>
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct KvmSregs
{
    public KvmSegment Cs, Ds, Es, Fs, Gs, Ss;
    public KvmSegment Tr, Ldt;
    public KvmDtable Gdt, Idt;
    public ulong Cr0, Cr2, Cr3, Cr4, Cr8;
    public ulong Efer;
    public ulong ApicBase;

    // (KVM_NR_INTERRUPTS + 63) / 64 with KVM_NR_INTERRUPTS = 256.
    public fixed ulong InterruptBitmap[4];
}
