namespace MemSvc.Hypervisor;

/// <summary>
/// What backs a memslot's shared accesses: the kernel's userspace_addr. MemSvc allocates the shared side
/// itself (<see cref="Anonymous"/>); the other forms exist because KVM gives them meaning.
/// </summary>
public abstract record SharedBacking
{
    private SharedBacking()
    {
    }

    /// <summary>userspace_addr = 0: no shared side (accepted by KVM; a shared access then fails with EFAULT).</summary>
    public static SharedBacking None { get; } = new NoBacking();

    /// <summary>The backend allocates MemorySize bytes of zeroed anonymous memory and frees it when the slot goes.</summary>
    public static SharedBacking Anonymous { get; } = new AnonymousMemory();

    /// <summary>
    /// userspace_addr = the guest_memfd's own mapping at GuestMemfdOffset: a "gmem-only" slot whose shared
    /// accesses are served by the guest_memfd too (needs GUEST_MEMFD_FLAG_MMAP).
    /// </summary>
    public static SharedBacking GuestMemfdMapping { get; } = new GuestMemfdMap();

    /// <summary>An exact userspace_addr, for conformance tests of the kernel's address checks.</summary>
    public static SharedBacking At(ulong userspaceAddress) => new RawAddress(userspaceAddress);

    public sealed record NoBacking : SharedBacking;

    public sealed record AnonymousMemory : SharedBacking;

    public sealed record GuestMemfdMap : SharedBacking;

    public sealed record RawAddress(ulong UserspaceAddress) : SharedBacking;
}
