namespace MemSvc.Server.Telemetry;

/// <summary>The "MemSvc:Telemetry" section: what the server exposes besides OTLP (which the OTEL_* variables set).</summary>
public sealed class TelemetryOptions
{
    public const string Section = "Telemetry";

    /// <summary>Where the Prometheus scrape is served on <see cref="PrometheusPort"/>.</summary>
    public const string ScrapePath = "/metrics";

    /// <summary>
    /// A plaintext HTTP/1.1 port on every address that serves a Prometheus scrape of the server's metrics at
    /// /metrics and nothing else; null (the default): none. Off unless asked for, because Core's metrics carry
    /// VM ids in their labels and the port has no authentication: expose it to the node's scraper only. Not the
    /// health port: kubelet's gRPC probes need HTTP/2 without TLS there, Prometheus scrapes over HTTP/1.1, and
    /// Kestrel's cleartext ports speak one or the other.
    /// </summary>
    public int? PrometheusPort { get; set; }
}
