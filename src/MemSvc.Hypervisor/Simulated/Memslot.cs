namespace MemSvc.Hypervisor.Simulated;

/// <summary>A bound memslot (struct kvm_memory_slot): what the fault path and the host accessors look at.</summary>
internal sealed class Memslot
{
    /// <summary>The memslot address space (as_id, bits 16+ of KVM's slot number); 1 is SMM's on x86.</summary>
    public uint AsId { get; init; }

    /// <summary>The id within its address space (bits 0-15 of KVM's slot number).</summary>
    public required uint Id { get; init; }

    public required MemoryRegionFlags Flags { get; set; }

    public required ulong Gpa { get; set; }

    public required ulong Size { get; init; }

    public ulong End => Gpa + Size;

    /// <summary>userspace_addr, as checked and stored by the kernel.</summary>
    public required ulong UserspaceAddr { get; init; }

    /// <summary>The mapping the backend created for this slot (Anonymous or GuestMemfdMapping); null once unmapped.</summary>
    public UserMapping? OwnedMapping { get; set; }

    /// <summary>The bound guest_memfd; null without GUEST_MEMFD or once the file was released (LC-3: binding nulled).</summary>
    public SimulatedGuestMemfd? GuestMemfd { get; set; }

    public ulong GuestMemfdOffset { get; init; }

    /// <summary>
    /// KVM_MEMSLOT_GMEM_ONLY: the bound file supports mmap, so shared faults are served from the guest_memfd too,
    /// whatever userspace_addr points at (results.txt: "gmem-only but ua = unrelated anon" reads the gmem byte).
    /// </summary>
    public bool GuestMemfdOnly { get; init; }

    public bool HasGuestMemfdFlag => (Flags & MemoryRegionFlags.GuestMemfd) != 0;

    public bool IsReadOnly => (Flags & MemoryRegionFlags.ReadOnly) != 0;

    public bool Contains(ulong gpa) => gpa >= Gpa && gpa - Gpa < Size;
}
