namespace MemSvc.Hypervisor;

/// <summary>Why <see cref="IVcpu.Run"/> returned: a closed set, one record per KVM exit reason MemSvc handles.</summary>
public abstract record VmExit
{
    private VmExit()
    {
    }

    /// <summary>
    /// KVM_EXIT_MEMORY_FAULT (39): the access could not be resolved by KVM. <see cref="Gpa"/> is page aligned,
    /// <see cref="Size"/> is 4096, <see cref="Flags"/> has Private exactly when the access was private.
    /// </summary>
    public sealed record MemoryFault(ulong Gpa, ulong Size, MemoryFaultFlags Flags) : VmExit
    {
        public bool IsPrivate => (Flags & MemoryFaultFlags.Private) != 0;
    }

    /// <summary>
    /// KVM_EXIT_HYPERCALL (3) for KVM_HC_MAP_GPA_RANGE (12): the guest asks to convert [Gpa, Gpa + Pages·4096).
    /// <see cref="Attributes"/> are the guest's: KVM_MAP_GPA_RANGE_ENCRYPTED (bit 4) asks for private.
    /// Answer with <see cref="IVcpu.CompleteHypercall"/> before running again.
    /// </summary>
    public sealed record MapGpaRange(ulong Gpa, ulong Pages, ulong Attributes) : VmExit
    {
        public const ulong Encrypted = 1UL << 4;

        /// <summary>The result a host gives to refuse the request: -EINVAL, as QEMU's kvm_handle_hc_map_gpa_range does.</summary>
        public const ulong Refused = unchecked((ulong)-(long)Errno.EINVAL);

        public bool ToPrivate => (Attributes & Encrypted) != 0;

        public ulong Size => Pages * 4096;
    }

    /// <summary>KVM_EXIT_IO (2): the guest wrote <see cref="Value"/> (<see cref="Size"/> bytes) to <see cref="Port"/>.</summary>
    public sealed record PortIo(ushort Port, bool IsWrite, int Size, uint Value) : VmExit;

    /// <summary>KVM_EXIT_MMIO (6): an access to guest-physical memory no memslot can serve.</summary>
    public sealed record Mmio(ulong Gpa, int Length, bool IsWrite) : VmExit;

    /// <summary>KVM_EXIT_HLT (5): the guest program finished.</summary>
    public sealed record Halt : VmExit;

    /// <summary>KVM_EXIT_SHUTDOWN (8): triple fault; the vCPU cannot continue.</summary>
    public sealed record Shutdown : VmExit;

    /// <summary>KVM_EXIT_INTERNAL_ERROR (17) or KVM_EXIT_FAIL_ENTRY: KVM could not run the guest.</summary>
    public sealed record InternalError(uint Suberror, string Reason) : VmExit;

    /// <summary>KVM_EXIT_INTR (10): <see cref="IVcpu.RequestExit"/> stopped the run; running again continues.</summary>
    public sealed record Interrupted : VmExit;

    /// <summary>
    /// The guest program stopped itself at step <see cref="Step"/> (the selftests' UCALL_ABORT): a pattern check
    /// read <see cref="Actual"/> at <see cref="Gpa"/> where it expected <see cref="Expected"/>, or a hypercall
    /// returned <see cref="Actual"/> instead of 0.
    /// </summary>
    public sealed record GuestAbort(int Step, GuestAbortReason Reason, ulong Gpa, ulong Expected, ulong Actual) : VmExit;
}

/// <summary>KVM_MEMORY_EXIT_FLAG_*. Bits 0–2 are reserved for R/W/X and never set upstream.</summary>
[Flags]
public enum MemoryFaultFlags : ulong
{
    None = 0,
    Private = 1UL << 3,
}

public enum GuestAbortReason
{
    /// <summary>A CheckPattern step read a byte other than its pattern.</summary>
    PatternMismatch = 1,

    /// <summary>A MapGpaRange hypercall returned non-zero (GUEST_ASSERT(!ret) in the selftests).</summary>
    HypercallFailed = 2,
}
