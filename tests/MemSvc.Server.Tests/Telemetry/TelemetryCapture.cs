using System.Diagnostics;
using MemSvc.Core.Telemetry;
using MemSvc.Server.Tests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;

namespace MemSvc.Server.Tests.Telemetry;

/// <summary>
/// In-memory exporters attached to the real server's OpenTelemetry providers through the build hook. Core's
/// ActivitySource and Meter are process-wide, so spans and points of servers other tests run at the same time
/// arrive here too: tests pick theirs out by a VM id nobody else uses.
/// </summary>
public sealed class TelemetryCapture
{
    private readonly List<Activity> _spans = [];
    private readonly List<MetricSnapshot> _metrics = [];

    public void Attach(WebApplicationBuilder builder)
    {
        builder.Services.ConfigureOpenTelemetryTracerProvider(tracing => tracing.AddInMemoryExporter(_spans));
        // Every VM of every server in the test process lands in these streams: lift the SDK's default of 2000 points
        // per stream so that this test's VM cannot be folded into the overflow point by the others'.
        builder.Services.ConfigureOpenTelemetryMeterProvider(metrics => metrics
            .AddView(instrument => instrument.Meter.Name == CoreActivities.MeterName ? new MetricStreamConfiguration { CardinalityLimit = 1_000_000 } : null)
            .AddInMemoryExporter(_metrics));
    }

    /// <summary>The exported spans once <paramref name="done"/> holds for them (spans export when they end, which may follow the response).</summary>
    public async Task<List<Activity>> SpansAsync(Func<List<Activity>, bool> done)
    {
        using var patience = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        patience.CancelAfter(Watcher.Patience);
        while (true)
        {
            List<Activity> spans;
            lock (_spans)
            {
                spans = [.. _spans];
            }

            if (done(spans))
            {
                return spans;
            }

            await Task.Delay(5, patience.Token);
        }
    }

    /// <summary>Collects every instrument now and returns the points of <paramref name="name"/> tagged with <paramref name="vm"/>.</summary>
    public List<MetricPoint> Points(IServiceProvider services, string name, string vm) =>
        Points(services, name, p => Tag(p, "vm") as string == vm);

    /// <summary>Collects every instrument now and returns the points of <paramref name="name"/> that <paramref name="mine"/> picks.</summary>
    public List<MetricPoint> Points(IServiceProvider services, string name, Func<MetricPoint, bool> mine)
    {
        lock (_metrics)
        {
            _metrics.Clear();
        }

        Assert.True(services.GetRequiredService<MeterProvider>().ForceFlush());
        lock (_metrics)
        {
            return [.. _metrics
                .Where(m => m.Name == name)
                .SelectMany(m => m.MetricPoints)
                .Where(mine)];
        }
    }

    public static object? Tag(MetricPoint point, string key)
    {
        foreach (var tag in point.Tags)
        {
            if (tag.Key == key)
            {
                return tag.Value;
            }
        }

        return null;
    }
}
