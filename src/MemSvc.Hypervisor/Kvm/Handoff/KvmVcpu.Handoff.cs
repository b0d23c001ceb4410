using System.Runtime.InteropServices;
using MemSvc.Hypervisor.Kvm.Handoff;

namespace MemSvc.Hypervisor.Kvm;

/// <summary>
/// A planned handoff's part of the vCPU. The vCPU fd cannot move (KVM answers it only in the process that created
/// the VM), so what moves is its state after a clean stop: the registers, with no exit left half done.
/// </summary>
public sealed partial class KvmVcpu
{
    /// <summary>
    /// Brings the vCPU to a clean stop and returns its state. The caller has stopped the thread that runs it. An
    /// exit left half done (port I/O such as a ucall or a report, MMIO, a KVM_EXIT_HYPERCALL) is completed first by
    /// one KVM_RUN with immediate_exit set, which finishes it and returns before any guest instruction runs
    /// (api.rst, "immediate_exit"; what QEMU does before it saves a vCPU): the kernel's pending completion lives in
    /// the vCPU and would not move. A MapGpaRange result not given yet is then owed to rax, past the instruction, in
    /// this process (should the handoff be called off) as in the next one.
    /// </summary>
    internal KvmVcpuState Export()
    {
        lock (_runGate)
        {
            ThrowIfDisposed();
            FinishPendingExit();
            var owed = _pendingHypercall != PendingHypercall.None;
            if (owed)
            {
                // The completion skipped the `out` (or the vmcall, writing hypercall.ret, not yet set, to rax): the
                // result now goes to rax of the registers as they are, as a ucall's does.
                _exitRegs = _fd.GetRegs();
                _pendingHypercall = PendingHypercall.Ucall;
            }

            var regs = _fd.GetRegs();
            var sregs = _fd.GetSregs();
            return new KvmVcpuState(Index, _ordinal, MemoryMarshal.AsBytes(new ReadOnlySpan<KvmRegs>(in regs)).ToArray(), MemoryMarshal.AsBytes(new ReadOnlySpan<KvmSregs>(in sregs)).ToArray(), owed);
        }
    }

    // In the constructor of a handed-off vCPU, after KVM_SET_CPUID2: the registers it stopped with.
    private void Restore(KvmVcpuState state)
    {
        if (state.Regs.Length != UapiSize.Of<KvmRegs>() || state.Sregs.Length != UapiSize.Of<KvmSregs>())
        {
            throw new HypervisorException(Errno.EINVAL, "handoff", $"vCPU {state.Index}: registers of {state.Regs.Length} and {state.Sregs.Length} bytes, not struct kvm_regs and kvm_sregs", "vcpu");
        }

        var regs = MemoryMarshal.Read<KvmRegs>(state.Regs);
        _fd.SetSregs(MemoryMarshal.Read<KvmSregs>(state.Sregs));
        _fd.SetRegs(regs);
        _exitRegs = regs;
        _pendingHypercall = state.ResultOwed ? PendingHypercall.Ucall : PendingHypercall.None;
    }
}
