using System.Runtime.InteropServices;

namespace MemSvc.Hypervisor.Kvm;

/// <summary>
/// Kicks a thread out of KVM_RUN with a signal, as QEMU's SIG_IPI does: KVM_RUN returns EINTR when a signal is
/// pending. The signal is a real-time one that neither glibc (32, 33) nor the .NET runtime (SIGRTMIN = 34, for
/// thread activation) uses, and its handler is a <see cref="PosixSignalRegistration"/>: the runtime's native
/// handler only queues it, so nothing unsafe runs in signal context, and the managed callback cancels the
/// default action (which for a real-time signal would end the process). Other syscalls the thread may be in are
/// restarted (the runtime installs its handlers with SA_RESTART).
/// </summary>
internal static class VcpuKicker
{
    /// <summary>SIGRTMIN + 6 with glibc.</summary>
    public const int Signal = 40;

    private static readonly Lazy<PosixSignalRegistration?> Registration = new(Register, LazyThreadSafetyMode.ExecutionAndPublication);

    /// <summary>The calling thread's kernel thread id, cached per thread.</summary>
    [ThreadStatic]
    private static int _threadId;

    /// <summary>Whether kicks can be sent: the handler is installed (only on Linux).</summary>
    public static bool IsAvailable => Registration.Value is not null;

    public static int CurrentThreadId
    {
        get
        {
            if (_threadId == 0)
            {
                _threadId = LibC.Gettid();
            }

            return _threadId;
        }
    }

    /// <summary>Sends the kick to <paramref name="threadId"/> of this process; a thread that is gone is ignored.</summary>
    public static void Kick(int threadId)
    {
        if (threadId != 0 && IsAvailable)
        {
            LibC.Tgkill(Environment.ProcessId, threadId, Signal);
        }
    }

    private static PosixSignalRegistration? Register()
    {
        if (!OperatingSystem.IsLinux())
        {
            return null;
        }

        return PosixSignalRegistration.Create((PosixSignal)Signal, context => context.Cancel = true);
    }
}
