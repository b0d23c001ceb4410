using MemSvc.Hypervisor;

namespace MemSvc.Core.Memory;

/// <summary>What backs a memslot's shared accesses.</summary>
public enum SharedBackingKind
{
    /// <summary>Not set: SetMemoryRegion takes <see cref="Anonymous"/>.</summary>
    Unspecified = 0,

    /// <summary>Zeroed anonymous memory the backend allocates for the slot (the default).</summary>
    Anonymous = 1,

    /// <summary>The guest_memfd's own mapping (a gmem-only slot; the file needs GUEST_MEMFD_FLAG_MMAP).</summary>
    GuestMemfd = 2,
}

/// <summary>
/// A memslot. <paramref name="GuestMemfdId"/> is 0 without a guest_memfd; it keeps naming the file after
/// DeleteGuestMemfd closed it (the binding stays, as in KVM). <paramref name="BackingRevoked"/> is true after
/// RevokeRegionBacking: guest accesses fault until the region is deleted and set again.
/// </summary>
public sealed record MemoryRegionInfo(
    string VmId,
    uint Slot,
    ulong Gpa,
    ulong Size,
    MemoryRegionFlags Flags,
    ulong GuestMemfdId,
    ulong GuestMemfdOffset,
    SharedBackingKind SharedBacking,
    bool BackingRevoked);

/// <summary>SetMemoryRegion's arguments (addresses, sizes and offsets in bytes).</summary>
public sealed record SetMemoryRegionRequest
{
    public uint Slot { get; init; }

    public ulong Gpa { get; init; }

    public ulong Size { get; init; }

    /// <summary>KVM_MEM_* flags; GuestMemfd must be set exactly when <see cref="GuestMemfdId"/> is not 0.</summary>
    public MemoryRegionFlags Flags { get; init; }

    public ulong GuestMemfdId { get; init; }

    public ulong GuestMemfdOffset { get; init; }

    public SharedBackingKind SharedBacking { get; init; } = SharedBackingKind.Anonymous;
}
