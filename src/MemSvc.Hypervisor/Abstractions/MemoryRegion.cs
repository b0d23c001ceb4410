namespace MemSvc.Hypervisor;

/// <summary>
/// The arguments of KVM_SET_USER_MEMORY_REGION2, shaped like the kernel's struct so that both backends apply
/// the kernel's checks to exactly the same inputs. <see cref="MemorySize"/> 0 deletes the slot.
/// </summary>
/// <param name="Slot">(address space &lt;&lt; 16) | slot id.</param>
/// <param name="Flags">KVM_MEM_* flags.</param>
/// <param name="GuestPhysAddr">First guest-physical byte of the slot; page aligned.</param>
/// <param name="MemorySize">Bytes; page aligned; 0 deletes the slot.</param>
/// <param name="SharedBacking">What backs shared accesses (the kernel's userspace_addr).</param>
/// <param name="GuestMemfd">The guest_memfd serving private accesses, with <see cref="MemoryRegionFlags.GuestMemfd"/>; null passes fd -1.</param>
/// <param name="GuestMemfdOffset">Byte offset of the slot's first page in <paramref name="GuestMemfd"/>.</param>
public sealed record MemoryRegion(
    uint Slot,
    MemoryRegionFlags Flags,
    ulong GuestPhysAddr,
    ulong MemorySize,
    SharedBacking SharedBacking,
    IGuestMemfd? GuestMemfd = null,
    ulong GuestMemfdOffset = 0)
{
    /// <summary>The request that deletes <paramref name="slot"/>: size 0, everything else ignored by the kernel.</summary>
    public static MemoryRegion Delete(uint slot) => new(slot, MemoryRegionFlags.None, 0, 0, SharedBacking.None);

    public GpaRange Range => new(GuestPhysAddr, MemorySize);
}
