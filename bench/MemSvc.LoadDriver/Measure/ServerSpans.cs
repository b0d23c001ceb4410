using System.Collections.Concurrent;
using System.Diagnostics;

namespace MemSvc.LoadDriver.Measure;

/// <summary>
/// The server's own time, step by step, from the spans it makes anyway: ASP.NET Core's span per request (the whole
/// request inside Kestrel: identity, interceptors, the handler, the response handed to HTTP/2) and Core's spans
/// inside it. What the client's figures add to these is the transport, and whatever else runs on the cores meanwhile.
/// Records only while <see cref="Recording"/>: MemSvc's rounds and the bare echo's (its span is the pipeline's
/// baseline), not the triggered stream's.
/// </summary>
internal sealed class ServerSpans : IDisposable
{
    private readonly ActivityListener _listener;
    private readonly ConcurrentDictionary<string, ConcurrentQueue<double>> _durations = new(StringComparer.Ordinal);

    public ServerSpans()
    {
        _listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name is "Microsoft.AspNetCore" || source.Name.StartsWith("MemSvc", StringComparison.Ordinal),
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllData,
            ActivityStopped = Stopped,
        };
        ActivitySource.AddActivityListener(_listener);
    }

    public bool Recording { get; set; }

    /// <summary>The durations of the spans named <paramref name="name"/> (a request span is named by its gRPC method, "ResolveFault"), in µs.</summary>
    public Samples Of(string name)
    {
        var samples = new Samples();
        if (_durations.TryGetValue(name, out var durations))
        {
            foreach (var duration in durations)
            {
                samples.Add(duration);
            }
        }

        return samples;
    }

    public void Dispose() => _listener.Dispose();

    private void Stopped(Activity activity)
    {
        if (!Recording)
        {
            return;
        }

        // A request's span is named "POST /memsvc.v1.EventService/ResolveFault": kept by its method's name.
        var name = activity.Source.Name == "Microsoft.AspNetCore" ? activity.DisplayName[(activity.DisplayName.LastIndexOf('/') + 1)..] : activity.DisplayName;
        _durations.GetOrAdd(name, _ => new ConcurrentQueue<double>()).Enqueue(activity.Duration.TotalMicroseconds);
    }
}
