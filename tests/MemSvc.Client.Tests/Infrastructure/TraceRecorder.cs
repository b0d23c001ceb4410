using System.Collections.Concurrent;
using System.Diagnostics;

namespace MemSvc.Client.Tests.Infrastructure;

/// <summary>
/// Records every activity of one trace, whatever its source: the test's root, the SDK's spans, the HTTP and gRPC
/// clients' own, and the in-process server's. Activities of other traces (other tests) are not sampled.
/// </summary>
public sealed class TraceRecorder : IDisposable
{
    private static readonly ActivitySource TestSource = new("MemSvc.Client.Tests");
    private readonly ActivityListener _listener;
    private readonly ConcurrentQueue<Activity> _stopped = new();
    private readonly HashSet<string> _ignored;

    /// <param name="ignoredSources">Sources not listened to, as if the application had not asked for them.</param>
    public TraceRecorder(params string[] ignoredSources)
    {
        _ignored = [.. ignoredSources];
        _listener = new ActivityListener
        {
            ShouldListenTo = source => !_ignored.Contains(source.Name),
            Sample = (ref ActivityCreationOptions<ActivityContext> options) =>
                Root is { } root && options.Parent.TraceId == root.TraceId ? ActivitySamplingResult.AllDataAndRecorded
                : options.Source == TestSource ? ActivitySamplingResult.AllDataAndRecorded : ActivitySamplingResult.None,
            ActivityStopped = activity =>
            {
                if (Root is { } root && activity.TraceId == root.TraceId)
                {
                    _stopped.Enqueue(activity);
                }
            },
        };
        ActivitySource.AddActivityListener(_listener);
    }

    /// <summary>The test's root span; null until <see cref="StartRoot"/>.</summary>
    public Activity? Root { get; private set; }

    /// <summary>The activities of the root's trace that have stopped, in the order they stopped.</summary>
    public IReadOnlyList<Activity> Stopped => [.. _stopped];

    /// <summary>Starts the root span (the caller's own work) and makes it current.</summary>
    public Activity StartRoot() => Root = TestSource.StartActivity("test operation") ?? throw new InvalidOperationException("the root span was not sampled");

    /// <summary>Waits until an activity that <paramref name="match"/> accepts has stopped (the server ends its span after answering).</summary>
    public async Task<Activity> WaitForAsync(Func<Activity, bool> match)
    {
        var ct = TestContext.Current.CancellationToken;
        while (true)
        {
            if (Stopped.FirstOrDefault(match) is { } found)
            {
                return found;
            }

            await Task.Delay(10, ct);
        }
    }

    /// <summary>The source names from <paramref name="activity"/> up to the root, by parent span ids among the recorded.</summary>
    public IReadOnlyList<string> Ancestry(Activity activity)
    {
        var byId = Stopped.Append(Root!).DistinctBy(a => a.SpanId).ToDictionary(a => a.SpanId);
        var chain = new List<string> { activity.Source.Name };
        while (activity.ParentSpanId != default && byId.TryGetValue(activity.ParentSpanId, out var parent))
        {
            chain.Add(parent.Source.Name);
            activity = parent;
        }

        return chain;
    }

    public void Dispose()
    {
        Root?.Dispose();
        _listener.Dispose();
    }
}
