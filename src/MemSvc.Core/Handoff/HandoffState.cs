using MemSvc.Core.Faults;
using MemSvc.Core.Memory;
using MemSvc.Core.Vcpus;
using MemSvc.Hypervisor;
using MemSvc.Hypervisor.Kvm.Handoff;
using MemSvc.Hypervisor.Memory;
using MemSvc.Hypervisor.Simulated.Handoff;

namespace MemSvc.Core.Handoff;

/// <summary>
/// What a planned handoff moves from one MemSvc process to the next, as plain records (<see cref="HandoffCodec"/>
/// serializes them): every VM with its owner, settings, backend state, memory bookkeeping, vCPUs, pending faults and
/// journal. <paramref name="TakenAt"/> is when the old process took it: the time the switch takes counts against
/// every pending fault's deadline, as it would have without the switch. <paramref name="FrozenAt"/> is when the
/// first of its running vCPUs stopped, or when it froze them with none running (from version 3; a state of version 2
/// has none): the longest vCPU pause runs from there. A reader only reports it.
/// </summary>
internal sealed record HandoffState(int Version, DateTimeOffset TakenAt, IReadOnlyList<VmHandoffState> Vms, DateTimeOffset? FrozenAt = null);

/// <summary>
/// One VM. <paramref name="Events"/> are the journal's held events, each in the journal file's record encoding (from
/// version 3, only those after the journals copied ahead: <see cref="JournalCopy"/>);
/// <paramref name="JournalFile"/> is the journal's file, every event written, which the new process appends to.
/// The backend's own state is <paramref name="Backend"/> for a simulated VM, <paramref name="Kvm"/> for a kvm one
/// (whose memory comes as the descriptors passed beside the state, which it indexes).
/// </summary>
internal sealed record VmHandoffState(
    string VmId,
    string Uid,
    string Owner,
    string BackendName,
    VmType VmType,
    FaultPolicy FaultPolicy,
    TimeSpan ResolutionTimeout,
    FaultAction TimeoutFallback,
    DateTimeOffset CreateTime,
    SimulatedVmState? Backend,
    KvmVmState? Kvm,
    IReadOnlyList<MemfdHandoffState> Memfds,
    ulong NextMemfdId,
    IReadOnlyList<RegionHandoffState> Regions,
    IReadOnlyList<VcpuHandoffState> Vcpus,
    FaultsHandoffState Faults,
    ulong NextSequence,
    IReadOnlyList<byte[]> Events,
    string? JournalFile);

/// <summary>Every VM's journal as copied ahead of a handoff (<see cref="JournalCopy"/>).</summary>
internal sealed record JournalsHandoffState(
    IReadOnlyList<JournalHandoffState> Journals,
    IReadOnlyList<ProgramHandoffState>? Programs = null,
    IReadOnlyList<ContentsHandoffState>? Contents = null);

/// <summary>One VM's held events at the copy, oldest first, each in the journal file's record encoding.</summary>
internal sealed record JournalHandoffState(string VmId, string Uid, IReadOnlyList<byte[]> Events);

/// <summary>An open guest_memfd: its id in the VM and the inode that names its file in <see cref="SimulatedVmState.Files"/>.</summary>
internal sealed record MemfdHandoffState(ulong Id, ulong Inode, DateTimeOffset CreateTime);

/// <summary>A memslot as Core bound it; <paramref name="FileInode"/> is null when its file is gone (released).</summary>
internal sealed record RegionHandoffState(
    uint Slot,
    ulong Gpa,
    ulong Size,
    MemoryRegionFlags Flags,
    ulong GuestMemfdId,
    ulong? FileInode,
    ulong GuestMemfdOffset,
    SharedBackingKind SharedBacking,
    bool BackingRevoked);

/// <summary>A vCPU's state machine: what GetVcpu reports, and the fault it waits on.</summary>
internal sealed record VcpuHandoffState(int Index, VcpuState State, string Reason, bool ProgramLoaded, IReadOnlyList<long> ExitCounts, VcpuExitKind LastExit, ulong CurrentFaultId);

/// <summary>The VM's fault numbering, the faults vCPUs wait on, and those whose fallback applied (for FAULT_TIMED_OUT).</summary>
internal sealed record FaultsHandoffState(ulong LastId, IReadOnlyList<PendingFaultHandoffState> Pending, IReadOnlyList<TimedOutHandoffState> TimedOut);

/// <summary>A fault whose deadline passed, and the fallback applied to it.</summary>
internal sealed record TimedOutHandoffState(ulong Id, FaultAction Applied);

/// <summary>
/// A fault a vCPU waits on: <paramref name="Elapsed"/> since it was raised, at <see cref="HandoffState.TakenAt"/>;
/// <paramref name="Announcement"/> is its journal event (record encoding), null when the journal had none.
/// </summary>
internal sealed record PendingFaultHandoffState(ulong Id, int Vcpu, ulong Gpa, ulong Size, bool ToPrivate, bool IsConversionRequest, TimeSpan Elapsed, byte[]? Announcement);

/// <summary>
/// A vCPU's guest program sent ahead of the freeze (version 4): programs change only when loaded, and were nearly the
/// whole of a frozen state's bytes (26 KB a VM for 253 steps).
/// </summary>
internal sealed record ProgramHandoffState(string Uid, int Vcpu, IReadOnlyList<GuestStepState> Steps);

/// <summary>
/// A page store's contents sent ahead of the freeze (version 4), named by <see cref="SentAheadKeys"/> within its VM: a
/// VM's memory changes only as its guest or the API writes it, and the frozen state leaves out what did not change.
/// </summary>
internal sealed record ContentsHandoffState(string Uid, string Key, PageStoreState Contents);
