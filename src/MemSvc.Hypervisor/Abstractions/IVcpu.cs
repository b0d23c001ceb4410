namespace MemSvc.Hypervisor;

/// <summary>
/// A vCPU running a <see cref="GuestProgram"/>. <see cref="Run"/> is called from one thread at a time (the vCPU's
/// run loop); <see cref="RequestExit"/> may be called from any thread.
/// </summary>
public interface IVcpu : IDisposable
{
    int Index { get; }

    /// <summary>Loads a program and puts the vCPU at its first step (the kvm backend compiles it to x86-64 code).</summary>
    void LoadProgram(GuestProgram program);

    /// <summary>
    /// KVM_RUN: runs the guest until its next exit. A memory fault is an exit, as KVM reports it (-1/EFAULT with
    /// exit_reason MEMORY_FAULT); any other failure of KVM_RUN throws <see cref="HypervisorException"/>.
    /// Running again after a fault retries the faulting access.
    /// </summary>
    VmExit Run();

    /// <summary>The value the guest receives for the hypercall of the last <see cref="VmExit.MapGpaRange"/> exit (0: success).</summary>
    void CompleteHypercall(ulong result);

    /// <summary>Makes the current or next <see cref="Run"/> return <see cref="VmExit.Interrupted"/> (KVM's immediate_exit).</summary>
    void RequestExit();
}
