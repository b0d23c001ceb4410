namespace MemSvc.Hypervisor.Kvm;

/// <summary>
/// Where the kvm backend keeps what a CPL3 long-mode guest needs (GDT, TSS, page tables, each vCPU's code and
/// stack): one memslot of 4 MiB just below 4 GiB, [0xFFC00000, 0x100000000), in the last slot id the kernel
/// allows (KVM_CAP_NR_MEMSLOTS − 1). That is the firmware hole of a PC, which the selftests' and QEMU's layouts
/// (memory at 0, at 3 GiB, at 4 GiB and up) leave free. The slot is created with the VM's first vCPU and is
/// reported in <see cref="VmCapabilities.ReservedRanges"/>.
/// <para>
/// Guest programs reach guest-physical addresses below <see cref="IdentityMapLimit"/> (64 GiB): the page tables
/// identity-map it with 2 MiB user pages. Programs that touch the boot range or memory above 64 GiB are refused
/// when loaded.
/// </para>
/// </summary>
internal static class BootLayout
{
    public const ulong Base = 0xFFC0_0000;
    public const ulong Size = 4UL << 20;

    public const ulong GdtOffset = 0x0000;
    public const ulong TssOffset = 0x1000;

    /// <summary>
    /// The TSS limit: the 0x68-byte 64-bit TSS, then an I/O permission bitmap for ports 0-0xFF (32 zero bytes:
    /// every port allowed; <c>out imm8</c> reaches no other) and the 0xFF byte that must follow it.
    /// </summary>
    public const uint TssLimit = 0x68 + 32;
    public const ulong Pml4Offset = 0x2000;
    public const ulong PdptOffset = 0x3000;

    /// <summary>64 page directories, one per GiB, from here.</summary>
    public const ulong PageDirectoriesOffset = 0x4000;
    public const int IdentityMappedGiB = 64;
    public const ulong IdentityMapLimit = (ulong)IdentityMappedGiB << 30;

    /// <summary>Each vCPU gets 32 KiB from here: 28 KiB of code, then a 4 KiB stack page.</summary>
    public const ulong VcpuAreasOffset = 0x8_0000;
    public const ulong VcpuAreaSize = 0x8000;
    public const ulong CodeCapacity = VcpuAreaSize - 0x1000;

    public const ushort KernelCodeSelector = 0x08;
    public const ushort KernelDataSelector = 0x10;
    public const ushort UserCodeSelector = 0x1b;
    public const ushort UserDataSelector = 0x23;
    public const ushort TssSelector = 0x28;
    public const int GdtEntries = 8;

    /// <summary>How many vCPUs one VM's boot memory has room for.</summary>
    public const int VcpuCapacity = (int)((Size - VcpuAreasOffset) / VcpuAreaSize);

    public static GpaRange Range => new(Base, Size);

    public static ulong CodeGpa(int ordinal) => Base + VcpuAreasOffset + ((ulong)ordinal * VcpuAreaSize);

    public static ulong StackTopGpa(int ordinal) => CodeGpa(ordinal) + VcpuAreaSize;
}
