using MemSvc.Hypervisor.Memory;

namespace MemSvc.Hypervisor.Kvm.Handoff;

/// <summary>
/// A VM of the kvm backend as a planned handoff describes it. The kernel objects themselves cannot move: KVM answers
/// a VM's and its vCPUs' ioctls only in the process whose address space created the VM (any other gets EIO, checked
/// against kvm->mm), and a guest_memfd binds only to the VM that created it (EINVAL). So the next process makes the
/// VM again from this description and the descriptors passed with it (SCM_RIGHTS; <paramref name="Descriptor"/>-style
/// fields index them): the memfds behind anonymous shared memory and the boot memory are mapped again and keep every
/// byte; each guest_memfd's bytes are copied, through its passed descriptor, into a new guest_memfd of the new VM;
/// each vCPU's registers are set again, so that it goes on where it stopped.
/// </summary>
/// <param name="RunMmapSize">KVM_GET_VCPU_MMAP_SIZE where the VM was made (the new process maps its own size).</param>
public sealed record KvmVmState(
    VmType Type,
    ulong ExitHypercallMask,
    IReadOnlyList<ValueRun> Attributes,
    IReadOnlyList<KvmFileState> Files,
    IReadOnlyList<KvmSlotState> Slots,
    KvmBootState? Boot,
    IReadOnlyList<KvmVcpuState> Vcpus,
    int RunMmapSize);

/// <summary>A guest_memfd, named by its inode in the old process; <paramref name="Descriptor"/> indexes the passed fds.</summary>
public sealed record KvmFileState(ulong Inode, ulong Size, GuestMemfdFlags Flags, int Descriptor);

/// <summary>What a memslot's shared side is, in a handoff (raw addresses and unmapped sides are refused).</summary>
public enum KvmSharedSideKind
{
    None,
    Anonymous,
    GuestMemfdMapping,
}

/// <summary>
/// A memslot: <paramref name="UserspaceAddr"/> is its shared side's address in the old process;
/// <paramref name="Descriptor"/> the passed memfd of an anonymous side; <paramref name="GuestMemfdInode"/> its file.
/// </summary>
public sealed record KvmSlotState(
    uint Slot,
    MemoryRegionFlags Flags,
    ulong Gpa,
    ulong Size,
    KvmSharedSideKind Side,
    ulong UserspaceAddr,
    int? Descriptor,
    ulong? GuestMemfdInode,
    ulong GuestMemfdOffset);

/// <summary>The boot memory (tables, each vCPU's code and stack): its address and passed memfd.</summary>
public sealed record KvmBootState(ulong UserspaceAddr, int Descriptor);

/// <summary>
/// A vCPU stopped cleanly (no exit left half done): its id, its code area, struct kvm_regs and kvm_sregs as the
/// kernel gave them, and whether a MapGpaRange result is still owed to its rax.
/// </summary>
public sealed record KvmVcpuState(int Index, int Ordinal, byte[] Regs, byte[] Sregs, bool ResultOwed);
