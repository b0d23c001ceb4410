using System.Diagnostics;
using System.Runtime;

namespace MemSvc.LoadDriver.Measure;

/// <summary>
/// Warms a measurement up until the JIT has settled. Tiered compilation recompiles every method called often enough
/// (thousands of them in Kestrel, grpc-dotnet and MemSvc) on a background thread, seconds after the first calls: a
/// measurement started while it runs shares the two cores with the compiler, and the side measured later (the bare
/// baseline, after MemSvc) gets a machine the compiler has left. A daemon runs for days; its steady state is what
/// an orchestrator meets, so every side of a comparison is measured after this.
/// </summary>
internal static class JitSettle
{
    /// <summary>
    /// Runs <paramref name="exercise"/> (every path the measurement will take) until no method was compiled during
    /// <paramref name="quietFor"/>, or <paramref name="atMost"/> passed.
    /// </summary>
    /// <returns>How long it took, and whether the JIT went quiet within <paramref name="atMost"/>.</returns>
    public static async Task<(TimeSpan Took, bool Settled, long Compiled)> WaitAsync(Func<Task> exercise, TimeSpan quietFor, TimeSpan atMost)
    {
        var started = Stopwatch.GetTimestamp();
        var first = JitInfo.GetCompiledMethodCount();
        var count = first;
        var quietSince = Stopwatch.GetTimestamp();
        while (Stopwatch.GetElapsedTime(started) < atMost)
        {
            await exercise().ConfigureAwait(false);
            var now = JitInfo.GetCompiledMethodCount();
            if (now != count)
            {
                count = now;
                quietSince = Stopwatch.GetTimestamp();
            }
            else if (Stopwatch.GetElapsedTime(quietSince) >= quietFor)
            {
                return (Stopwatch.GetElapsedTime(started), true, count - first);
            }
        }

        return (Stopwatch.GetElapsedTime(started), false, count - first);
    }
}
