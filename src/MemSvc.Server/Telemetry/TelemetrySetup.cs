using MemSvc.Core.Telemetry;
using MemSvc.Server.Hosting;
using OpenTelemetry;
using OpenTelemetry.Logs;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace MemSvc.Server.Telemetry;

/// <summary>
/// OpenTelemetry for the server: a span per RPC (ASP.NET Core instrumentation; grpc-dotnet tags it with the
/// method and status) with Core's backend spans as children, Core's and ASP.NET Core's metrics, and logs.
/// Exporting is the operator's choice: with OTEL_EXPORTER_OTLP_ENDPOINT set, everything goes there over OTLP
/// (the exporter reads the standard OTEL_* variables itself); without it nothing leaves the process, but the
/// providers still exist so that tests, or a debugger, can attach an exporter of their own. With
/// MemSvc:Telemetry:PrometheusPort set, the metrics are also kept for a Prometheus scrape (see PrometheusScrapePort).
/// </summary>
internal static class TelemetrySetup
{
    public const string ServiceName = "memsvc";

    /// <summary>The standard variable that turns OTLP export on; its protocol, headers etc. follow the spec's variables.</summary>
    public const string OtlpEndpointVariable = "OTEL_EXPORTER_OTLP_ENDPOINT";

    public static void AddMemSvcTelemetry(this WebApplicationBuilder builder)
    {
        var telemetry = builder.Services.AddOpenTelemetry()
            .ConfigureResource(resource =>
            {
                // OTEL_SERVICE_NAME (set by the deploy manifests) wins: the SDK's environment detector reads it.
                if (string.IsNullOrWhiteSpace(builder.Configuration["OTEL_SERVICE_NAME"]))
                {
                    resource.AddService(ServiceName, serviceVersion: typeof(TelemetrySetup).Assembly.GetName().Version?.ToString());
                }
            })
            .WithTracing(tracing => tracing
                .AddAspNetCoreInstrumentation(aspNetCore =>
                {
                    // Health probes and scrapes every few seconds would drown the spans that matter.
                    aspNetCore.Filter = context =>
                        !context.Request.Path.StartsWithSegments("/grpc.health.v1.Health", StringComparison.Ordinal)
                        && context.Request.Path != TelemetryOptions.ScrapePath;
                })
                .AddSource(CoreActivities.SourceName))
            .WithMetrics(metrics => metrics
                .AddAspNetCoreInstrumentation()
                .AddMeter(CoreActivities.MeterName, ServerMetrics.MeterName));
        builder.Logging.AddOpenTelemetry(logging =>
        {
            logging.IncludeFormattedMessage = true;
            logging.IncludeScopes = true;
        });

        if (IsOtlpConfigured(builder.Configuration))
        {
            telemetry.UseOtlpExporter();
        }

        // Only when asked for: a reader keeps its own copy of every metric stream, updated on every recording.
        if (IsPrometheusConfigured(builder.Configuration))
        {
            telemetry.WithMetrics(metrics => metrics.AddPrometheusExporter(prometheus => prometheus.ScrapeEndpointPath = TelemetryOptions.ScrapePath));
        }
    }

    public static bool IsOtlpConfigured(IConfiguration configuration) =>
        !string.IsNullOrWhiteSpace(configuration[OtlpEndpointVariable]);

    // The raw value: a bad one is refused by MemSvcOptionsValidator at start-up, with the other settings' failures.
    public static bool IsPrometheusConfigured(IConfiguration configuration) =>
        !string.IsNullOrWhiteSpace(configuration[$"{MemSvcOptions.Section}:{TelemetryOptions.Section}:{nameof(TelemetryOptions.PrometheusPort)}"]);
}
