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

    public int ResolvedCount => Count ?? Math.Max(4, 2 * Environment.ProcessorCount);

    public int ResolvedPerOwner => PerOwner ?? Math.Max(1, ResolvedCount - 1);
}
