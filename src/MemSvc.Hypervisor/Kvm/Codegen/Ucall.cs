namespace MemSvc.Hypervisor.Kvm;

/// <summary>
/// How compiled guest code talks to the host, after the KVM selftests' "ucall": a 4-byte `out` of a code to
/// <see cref="Port"/>, with arguments in registers that the run loop reads with KVM_GET_REGS. A vmcall cannot be
/// used: at CPL3 it faults, and without an IDT that is a triple fault.
/// </summary>
internal static class Ucall
{
    public const ushort Port = 0xE0;

    /// <summary>The program ended (→ <see cref="VmExit.Halt"/>). The guest repeats the `out`, so running again halts again.</summary>
    public const uint Halt = 1;

    /// <summary>
    /// The program stopped itself (→ <see cref="VmExit.GuestAbort"/>): rbx = step, rcx = reason, rsi = gpa,
    /// rdi = expected, r8 = actual. Repeated like <see cref="Halt"/>.
    /// </summary>
    public const uint Abort = 2;

    /// <summary>
    /// KVM_HC_MAP_GPA_RANGE in the hypercall's own registers: rbx = gpa, rcx = pages, rdx = attributes. The host
    /// puts the result in rax (KVM_SET_REGS) before the guest continues.
    /// </summary>
    public const uint MapGpaRange = 3;
}
