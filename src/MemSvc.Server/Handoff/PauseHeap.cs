namespace MemSvc.Server.Handoff;

/// <summary>
/// The heap made ready for a handoff's pause, before anything freezes: a full, blocking collection, so that no
/// collection is due inside the pause (a blocking gen2 collection there took 33 ms on a 14 MiB heap) and the pause's
/// allocations (a few MiB at 100 VMs) land on memory the heap has used before. A
/// no-GC region reserved up front did the first but not the second: its memory came fresh from the kernel, and
/// faulting it in page by page was a third of the pause (about 900 page faults at 100 VMs, 11 µs each on this
/// machine's hypervisor; BENCHMARKS.md, issue 16's fourth pass). A handoff that allocates past the youngest
/// generation's budget may still collect in the pause, as it would have anyway.
/// </summary>
internal static class PauseHeap
{
    public static void Prepare() => GC.Collect();
}
