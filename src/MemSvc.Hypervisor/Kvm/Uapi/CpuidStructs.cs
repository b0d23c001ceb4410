using System.Runtime.InteropServices;

namespace MemSvc.Hypervisor.Kvm;

/// <summary>struct kvm_cpuid_entry2 (40 bytes).</summary>
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct KvmCpuidEntry2
{
    public uint Function;
    public uint Index;
    public uint Flags;
    public uint Eax, Ebx, Ecx, Edx;
    public fixed uint Padding[3];
}

/// <summary>
/// The header of struct kvm_cpuid2 (nent, padding; 8 bytes), which the kernel follows with nent entries. The
/// ioctl numbers encode only this header's size, as in the kernel.
/// </summary>
[StructLayout(LayoutKind.Sequential)]
internal struct KvmCpuid2
{
    public const int HeaderSize = 8;

    public uint Nent;
    public uint Padding;
}
