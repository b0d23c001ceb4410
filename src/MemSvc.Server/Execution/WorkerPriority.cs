using System.Runtime.InteropServices;

namespace MemSvc.Server.Execution;

/// <summary>
/// Lowers the calling worker thread's CPU priority (its nice value), so that a long conversion takes the cores only
/// when Kestrel and the handlers answering other owners leave them free: with a conversion burst on two busy cores,
/// another owner's GetVm p99 was 13-27 ms at nice 0 and 5-14 ms at nice 10 (BENCHMARKS.md, fairness). .NET's
/// Thread.Priority does nothing on Linux; setpriority on the thread's id does, and raising one's own nice value needs
/// no privilege.
/// </summary>
internal static partial class WorkerPriority
{
    // setpriority(PRIO_PROCESS, tid, nice) applies to that one thread on Linux.
    private const int PrioProcess = 0;

    /// <summary>Sets the calling thread's nice value; false (nothing changed) where the kernel refused.</summary>
    public static bool TrySetNice(int nice) =>
        nice == 0 || (OperatingSystem.IsLinux() && SetPriority(PrioProcess, GetTid(), nice) == 0);

    [LibraryImport("libc", EntryPoint = "gettid")]
    private static partial int GetTid();

    [LibraryImport("libc", EntryPoint = "setpriority")]
    private static partial int SetPriority(int which, int who, int prio);
}
