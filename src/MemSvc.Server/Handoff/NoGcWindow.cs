using System.Runtime;

namespace MemSvc.Server.Handoff;

/// <summary>
/// The vCPUs' pause during a handoff without a garbage collection in it: the state's serialization allocates a few
/// MiB, which made a blocking gen2 collection (33 ms on a 14 MiB heap, measured) land inside the pause. The window
/// reserves the memory up front (collecting first, before anything freezes); it ends when disposed, or by itself
/// when the handoff allocates more than reserved, and then a collection may come as it would have anyway.
/// </summary>
internal sealed class NoGcWindow : IDisposable
{
    // Reserved per window: more than a 1,000-VM state with full journals allocates on the old side or the new.
    private const long Bytes = 64L << 20;

    private readonly bool _started;

    public NoGcWindow()
    {
        try
        {
            _started = GC.TryStartNoGCRegion(Bytes);
        }
        catch (InvalidOperationException)
        {
            // Already in one (a second handoff attempt in this process): that one covers this too.
        }
    }

    public void Dispose()
    {
        if (_started && GCSettings.LatencyMode == GCLatencyMode.NoGCRegion)
        {
            GC.EndNoGCRegion();
        }
    }
}
