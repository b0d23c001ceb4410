using System.Runtime.InteropServices;

namespace MemSvc.Hypervisor.Kvm;

// The memory-related argument structs of include/uapi/linux/kvm.h (v6.18). Field names follow the kernel's;
// sizes and offsets are checked by UapiLayoutTests. They are unsafe only for their fixed-size padding arrays.

/// <summary>struct kvm_userspace_memory_region2 (160 bytes): KVM_SET_USER_MEMORY_REGION2.</summary>
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct KvmUserspaceMemoryRegion2
{
    public uint Slot;
    public uint Flags;
    public ulong GuestPhysAddr;
    public ulong MemorySize;
    public ulong UserspaceAddr;
    public ulong GuestMemfdOffset;
    public uint GuestMemfd;
    public uint Pad1;
    public fixed ulong Pad2[14];
}

/// <summary>struct kvm_userspace_memory_region (32 bytes): the v1 KVM_SET_USER_MEMORY_REGION.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct KvmUserspaceMemoryRegion
{
    public uint Slot;
    public uint Flags;
    public ulong GuestPhysAddr;
    public ulong MemorySize;
    public ulong UserspaceAddr;
}

/// <summary>struct kvm_create_guest_memfd (64 bytes): KVM_CREATE_GUEST_MEMFD.</summary>
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct KvmCreateGuestMemfd
{
    public ulong Size;
    public ulong Flags;
    public fixed ulong Reserved[6];
}

/// <summary>struct kvm_memory_attributes (32 bytes): KVM_SET_MEMORY_ATTRIBUTES.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct KvmMemoryAttributes
{
    public ulong Address;
    public ulong Size;
    public ulong Attributes;
    public ulong Flags;
}

/// <summary>struct kvm_enable_cap (104 bytes): KVM_ENABLE_CAP.</summary>
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct KvmEnableCap
{
    public uint Cap;
    public uint Flags;
    public fixed ulong Args[4];
    public fixed byte Pad[64];

    /// <summary>A request for <paramref name="cap"/> with args[0] = <paramref name="arg0"/> and everything else zero.</summary>
    public static KvmEnableCap Create(uint cap, ulong arg0)
    {
        var request = new KvmEnableCap { Cap = cap };

        // Sound: request is a local (fixed in place), and index 0 is inside the 4-element buffer.
        request.Args[0] = arg0;
        return request;
    }
}
