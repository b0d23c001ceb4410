namespace MemSvc.IntegrationTests.Infrastructure;

/// <summary>
/// The OpenTelemetry collector image that ComposeUpTests runs as docker-compose.yml's otel-collector service.
/// The file's default (the contrib image from Docker Hub) cannot be pulled where these tests run, so the default
/// here is the local image that .ci/docker/otel-collector-image.sh builds from Debian's Go sources.
/// </summary>
internal static class CollectorImage
{
    public const string Local = "memsvc-local/otelcol:core";

    /// <summary>OTEL_COLLECTOR_IMAGE, the variable docker-compose.yml reads, when set; else <see cref="Local"/>.</summary>
    public static string Name =>
        Environment.GetEnvironmentVariable("OTEL_COLLECTOR_IMAGE") is { Length: > 0 } configured ? configured : Local;
}
