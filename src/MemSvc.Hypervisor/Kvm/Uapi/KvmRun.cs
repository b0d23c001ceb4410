using System.Runtime.InteropServices;

namespace MemSvc.Hypervisor.Kvm;

/// <summary>
/// struct kvm_run (2352 bytes on x86), the page KVM shares with userspace through the vCPU fd's mmap: the fixed
/// header and the exit union members the run loop reads, at the kernel's offsets (union at 32).
/// </summary>
[StructLayout(LayoutKind.Explicit, Size = 2352)]
internal struct KvmRun
{
    public const int ExitUnionOffset = 32;

    [FieldOffset(0)]
    public byte RequestInterruptWindow;

    /// <summary>immediate_exit (renamed immediate_exit__unsafe in newer headers, same place): polled on KVM_RUN entry.</summary>
    [FieldOffset(1)]
    public byte ImmediateExit;

    [FieldOffset(8)]
    public uint ExitReason;

    [FieldOffset(12)]
    public byte ReadyForInterruptInjection;

    [FieldOffset(13)]
    public byte IfFlag;

    [FieldOffset(14)]
    public ushort Flags;

    [FieldOffset(16)]
    public ulong Cr8;

    [FieldOffset(24)]
    public ulong ApicBase;

    [FieldOffset(ExitUnionOffset)]
    public KvmRunIo Io;

    [FieldOffset(ExitUnionOffset)]
    public KvmRunMmio Mmio;

    [FieldOffset(ExitUnionOffset)]
    public KvmRunHypercall Hypercall;

    [FieldOffset(ExitUnionOffset)]
    public KvmRunInternal Internal;

    [FieldOffset(ExitUnionOffset)]
    public KvmRunFailEntry FailEntry;

    [FieldOffset(ExitUnionOffset)]
    public KvmRunMemoryFault MemoryFault;

    [FieldOffset(288)]
    public ulong KvmValidRegs;

    [FieldOffset(296)]
    public ulong KvmDirtyRegs;
}

/// <summary>kvm_run.io (KVM_EXIT_IO); the data is at kvm_run + DataOffset.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct KvmRunIo
{
    public byte Direction;
    public byte Size;
    public ushort Port;
    public uint Count;
    public ulong DataOffset;
}

/// <summary>kvm_run.mmio (KVM_EXIT_MMIO).</summary>
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct KvmRunMmio
{
    public ulong PhysAddr;
    public fixed byte Data[8];
    public uint Len;
    public byte IsWrite;
}

/// <summary>kvm_run.hypercall (KVM_EXIT_HYPERCALL); Flags overlays the older u32 longmode.</summary>
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct KvmRunHypercall
{
    public ulong Nr;
    public fixed ulong Args[6];
    public ulong Ret;
    public ulong Flags;
}

/// <summary>kvm_run.internal (KVM_EXIT_INTERNAL_ERROR).</summary>
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct KvmRunInternal
{
    public uint Suberror;
    public uint Ndata;
    public fixed ulong Data[16];
}

/// <summary>kvm_run.fail_entry (KVM_EXIT_FAIL_ENTRY).</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct KvmRunFailEntry
{
    public ulong HardwareEntryFailureReason;
    public uint Cpu;
}

/// <summary>kvm_run.memory_fault (KVM_EXIT_MEMORY_FAULT).</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct KvmRunMemoryFault
{
    public ulong Flags;
    public ulong Gpa;
    public ulong Size;
}
