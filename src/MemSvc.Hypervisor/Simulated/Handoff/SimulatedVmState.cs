using MemSvc.Hypervisor.Memory;

namespace MemSvc.Hypervisor.Simulated.Handoff;

/// <summary>
/// Everything a simulated VM is, as plain data, so that a planned handoff can move it into another process: the
/// memory attributes, the guest_memfd files (with their contents), the memslots and the shared sides the backend
/// mapped for them (at the same user addresses), and each vCPU's guest program and position. The MMU's mappings
/// are not carried: they are a cache the next fault fills again from the same attributes and memslots.
/// </summary>
/// <param name="Profile">The host profile the VM was made under; another profile refuses it.</param>
/// <param name="Files">The guest_memfd files this VM created that something still holds (an fd, a mapping, a memslot).</param>
public sealed record SimulatedVmState(
    string Profile,
    VmType Type,
    ulong ExitHypercallMask,
    IReadOnlyList<ValueRun> Attributes,
    IReadOnlyList<SimulatedFileState> Files,
    IReadOnlyList<SimulatedSlotState> Slots,
    IReadOnlyList<SimulatedVcpuState> Vcpus);

/// <summary>
/// A guest_memfd file, named by the inode it had in the process that exported it. <paramref name="ContentsSentAhead"/>
/// (version 4): its contents went ahead of the freeze, unchanged since (<paramref name="Contents"/> is empty then).
/// </summary>
public sealed record SimulatedFileState(
    ulong Inode,
    ulong Size,
    GuestMemfdFlags Flags,
    bool FdOpen,
    IReadOnlyList<ValueRun> Allocated,
    PageStoreState Contents,
    bool ContentsSentAhead = false);

/// <summary>A memslot; <paramref name="GuestMemfdInode"/> names its bound file (null: none, or released).</summary>
public sealed record SimulatedSlotState(
    uint AsId,
    uint Id,
    MemoryRegionFlags Flags,
    ulong Gpa,
    ulong Size,
    ulong UserspaceAddr,
    SimulatedMappingState? OwnedMapping,
    ulong? GuestMemfdInode,
    ulong GuestMemfdOffset,
    bool GuestMemfdOnly);

/// <summary>
/// The shared side the backend mapped for a memslot: anonymous memory with its contents, or a mapping of one of
/// the VM's guest_memfd files (<paramref name="FileInode"/> at <paramref name="FileOffset"/>).
/// </summary>
public sealed record SimulatedMappingState(ulong Start, ulong Size, PageStoreState? Anonymous, ulong FileInode, ulong FileOffset, bool ContentsSentAhead = false);

/// <summary>
/// A vCPU between two runs: its program, the step it is at and how far into it, the exit it ended with (halt or
/// guest abort, null while it can run), and a hypercall whose result the guest has not taken yet.
/// <paramref name="ProgramSentAhead"/> (handoff version 4): the program is not here but was sent before the freeze,
/// unchanged since (<paramref name="Program"/> is null then).
/// </summary>
public sealed record SimulatedVcpuState(
    int Index,
    IReadOnlyList<GuestStepState>? Program,
    int Step,
    ulong Done,
    FinalExitState? Final,
    bool HypercallPending,
    ulong HypercallResult,
    bool ProgramSentAhead = false);

/// <summary>One guest step, flattened: <paramref name="Kind"/> says which fields mean something.</summary>
public sealed record GuestStepState(string Kind, ulong Gpa, ulong Length, byte Pattern, AccessIntent Intent, ulong Attributes, uint Value);

/// <summary>The final exit: a halt (<paramref name="Halt"/>) or a guest abort with its fields.</summary>
public sealed record FinalExitState(bool Halt, int Step, GuestAbortReason Reason, ulong Gpa, ulong Expected, ulong Actual);
