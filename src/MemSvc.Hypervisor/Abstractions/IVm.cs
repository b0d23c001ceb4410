namespace MemSvc.Hypervisor;

/// <summary>
/// A VM: its memslots, memory attributes, guest_memfd files and vCPUs. Every method applies the kernel's
/// checks and fails with its errno (<see cref="HypervisorException"/>); a failed call changes nothing.
/// Methods are safe to call from several threads (the kernel serializes them with slots_lock).
/// </summary>
public interface IVm : IDisposable
{
    VmType Type { get; }

    VmCapabilities Capabilities { get; }

    /// <summary>KVM_CREATE_GUEST_MEMFD: a new file of <paramref name="size"/> bytes.</summary>
    IGuestMemfd CreateGuestMemfd(ulong size, GuestMemfdFlags flags);

    /// <summary>KVM_SET_USER_MEMORY_REGION2: create, modify or (size 0) delete a memslot.</summary>
    void SetUserMemoryRegion(MemoryRegion region);

    /// <summary>
    /// KVM_SET_MEMORY_ATTRIBUTES: overwrite the attributes of every page in [address, address+size).
    /// ENOTTY where the kernel has no memory attributes; EINVAL for flags, alignment, size or unsupported bits.
    /// </summary>
    void SetMemoryAttributes(ulong address, ulong size, MemoryAttributes attributes, ulong flags = 0);

    /// <summary>
    /// The attributes of [address, address+size) as maximal runs, in address order, covering the whole range.
    /// KVM has no "get" ioctl: this is the per-VM attribute state as last set successfully.
    /// </summary>
    IReadOnlyList<AttributeRange> GetMemoryAttributes(ulong address, ulong size);

    /// <summary>KVM_ENABLE_CAP(KVM_CAP_EXIT_HYPERCALL): hypercalls in <paramref name="mask"/> exit to userspace.</summary>
    void EnableExitHypercall(ulong mask);

    /// <summary>
    /// Reads guest memory the way the host sees it: through the shared side (userspace_addr) of the memslots.
    /// EFAULT where a byte has no memslot or no shared side. Private data is never visible here.
    /// </summary>
    void ReadSharedMemory(ulong gpa, Span<byte> destination);

    /// <summary>Writes guest memory through the shared side of the memslots; EFAULT as for reads.</summary>
    void WriteSharedMemory(ulong gpa, ReadOnlySpan<byte> source);

    /// <summary>
    /// Releases the shared side's pages in [gpa, gpa+size) (madvise MADV_REMOVE on the shared anonymous memory
    /// MemSvc maps, a punch on a guest_memfd mapping): they read back as zero. What QEMU does to the shared side
    /// when converting to private (ram_block_discard_range).
    /// </summary>
    void DiscardSharedMemory(ulong gpa, ulong size);

    /// <summary>
    /// munmap of a memslot's shared side while the slot stays bound. For a gmem-only slot whose guest_memfd is
    /// also closed, the guest's next access ends in KVM_EXIT_MEMORY_FAULT (flags 0) until the slot is deleted.
    /// ENOENT-like EINVAL for a slot that does not exist.
    /// </summary>
    void UnmapSharedBacking(uint slot);

    /// <summary>KVM_CREATE_VCPU.</summary>
    IVcpu CreateVcpu(int index);
}
