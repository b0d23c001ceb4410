using System.Diagnostics.Metrics;

namespace MemSvc.Server.Telemetry;

/// <summary>
/// memsvc.server.backends: 1 for each backend the daemon opened, tagged with whether it is the default. A node whose
/// default is simulated although it should run KVM shows up on a dashboard, not only in a start-up log line.
/// </summary>
internal static class BackendMetrics
{
    private static readonly Meter Meter = new(ServerMetrics.MeterName);

    private static volatile KeyValuePair<string, bool>[] _backends = [];

    static BackendMetrics() =>
        Meter.CreateObservableGauge(
            "memsvc.server.backends",
            () => _backends.Select(b => new Measurement<int>(1, new("backend", b.Key), new("default", b.Value))),
            "{backend}",
            "Backends this daemon opened (1 each), tagged backend and default");

    /// <summary>What this process serves; the latest server started in a process wins (tests start several).</summary>
    public static void Publish(IEnumerable<string> backends, string defaultBackend) =>
        _backends = [.. backends.Order(StringComparer.Ordinal).Select(b => new KeyValuePair<string, bool>(b, b == defaultBackend))];
}
