namespace MemSvc.Server.Execution;

/// <summary>
/// The "MemSvc:Workers" section: the dedicated threads that run Core's blocking operations (conversions, memory
/// reads and writes, fallocate, memslot and VM changes) so that no such call holds a thread-pool thread.
/// </summary>
public sealed class WorkerOptions
{
    /// <summary>Worker threads (count); null: twice the processor count, at least 4.</summary>
    public int? Count { get; set; }

    /// <summary>
    /// Workers one owner may occupy at once (count); null: all but one, so that one owner's slow calls always leave
    /// a worker for the others. Fault resolutions are not held to it.
    /// </summary>
    public int? PerOwner { get; set; }

    /// <summary>
    /// The workers' nice value (0 to 19): above 0, conversions and other long operations take the cores only when the
    /// request path (Kestrel, handlers, vCPU threads) leaves them free. 0 leaves them at the server's priority.
    /// Fault resolutions never run at it: they have workers of their own (<see cref="ResolutionCount"/>).
    /// </summary>
    public int Nice { get; set; } = 19;

    /// <summary>
    /// Threads for fault resolutions too large to run on the calling thread (count); null: the processor count, at
    /// least 2. They run at the server's own priority, because a vCPU waits on each resolution, and one owner may
    /// occupy all of them but one.
    /// </summary>
    public int? ResolutionCount { get; set; }

    public int ResolvedCount => Count ?? Math.Max(4, 2 * Environment.ProcessorCount);

    public int ResolvedPerOwner => PerOwner ?? Math.Max(1, ResolvedCount - 1);

    public int ResolvedResolutionCount => ResolutionCount ?? Math.Max(2, Environment.ProcessorCount);
}
