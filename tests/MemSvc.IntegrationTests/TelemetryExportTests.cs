using System.Globalization;
using MemSvc.Contracts.V1;
using MemSvc.IntegrationTests.Infrastructure;
using MemSvc.IntegrationTests.Otlp;
using static MemSvc.IntegrationTests.Infrastructure.MemSvcClients;

namespace MemSvc.IntegrationTests;

/// <summary>
/// The container's telemetry as docker-compose.yml wires it (OTEL_EXPORTER_OTLP_ENDPOINT, protocol grpc, on
/// the host's loopback), received by an OTLP endpoint in the test: a fault resolved by converting arrives as
/// an RPC span with the conversion as a child carrying vm, vcpu, gpa and size, as fault and resolution metric
/// points by VM, and the server's logs arrive too.
/// </summary>
[Collection(DockerCollection.Name)]
public sealed class TelemetryExportTests(DockerFixture docker)
{
    private const string VmId = "otlp";
    private const string ServiceName = "memsvc-it";
    private const ulong FaultingGpa = 0x1000;

    [Fact(Timeout = 300_000)]
    public async Task The_fault_flow_reaches_an_OTLP_collector_as_spans_metric_points_and_logs()
    {
        docker.SkipIfUnavailable();
        var ct = TestContext.Current.CancellationToken;
        await using var collector = await OtlpReceiver.StartAsync(ct);
        await using var memsvc = await MemSvcContainer.StartAsync(docker.Image, environment: new Dictionary<string, string>
        {
            ["OTEL_EXPORTER_OTLP_ENDPOINT"] = collector.Endpoint,
            ["OTEL_EXPORTER_OTLP_PROTOCOL"] = "grpc",
            ["OTEL_SERVICE_NAME"] = ServiceName,
            // The SDK's defaults (60 s for metrics, 5 s for spans) would only make the test wait.
            ["OTEL_METRIC_EXPORT_INTERVAL"] = "1000",
            ["OTEL_BSP_SCHEDULE_DELAY"] = "500",
            ["OTEL_BLRP_SCHEDULE_DELAY"] = "500",
        });
        Log.Write($"OTLP receiver on {collector.Endpoint}");
        var api = new MemSvcClients(memsvc.Channel);

        var fault = await FaultFlow.FaultAndConvertAsync(api, VmId, FaultingGpa, ct);
        Assert.Equal((FaultingGpa, Page, true), (fault.Gpa, fault.Size, fault.Private));

        await collector.WaitForAsync(
            received => ConversionUnderResolveFault(received) is not null
                        && FaultPoint(received) is not null
                        && ResolutionPoint(received) is not null
                        && BackendReadyLog(received) is not null,
            TimeSpan.FromSeconds(60),
            "the conversion span under the ResolveFault span, the fault and resolution points, the backend log");

        var (conversion, rpc) = ConversionUnderResolveFault(collector)!.Value;
        Assert.Equal(
            (VmId, 0UL, FaultingGpa, Page),
            ((string)conversion.Attributes["vm"], Number(conversion.Attributes["vcpu"]), Number(conversion.Attributes["gpa"]), Number(conversion.Attributes["size"])));
        Assert.Equal(ServiceName, conversion.Resource["service.name"]);
        Assert.Equal(ServiceName, rpc.Resource["service.name"]);
        Assert.Equal(("private", 1.0), ((string)FaultPoint(collector)!.Attributes["direction"], FaultPoint(collector)!.Value));
        Assert.Equal(("convert", 1.0), ((string)ResolutionPoint(collector)!.Attributes["action"], ResolutionPoint(collector)!.Value));
        Assert.Equal(9, BackendReadyLog(collector)!.Severity);
        Log.Write($"OTLP received {collector.Spans.Count} spans, {collector.Points.Count} metric points, {collector.Logs.Count} log records");
    }

    /// <summary>The conversion span of this VM and the RPC span of the same trace that resolved the fault.</summary>
    private static (ReceivedSpan Conversion, ReceivedSpan Rpc)? ConversionUnderResolveFault(OtlpReceiver received)
    {
        var spans = received.Spans.ToList();
        var conversion = spans.FirstOrDefault(s => s.Name == "memsvc.core.convert" && Is(s.Attributes, "vm", VmId));
        var rpc = conversion is null
            ? null
            : spans.FirstOrDefault(s => s.TraceId == conversion.TraceId && s.Name.Contains("memsvc.v1.EventService/ResolveFault", StringComparison.Ordinal));
        return rpc is null ? null : (conversion!, rpc);
    }

    // Metrics are cumulative: each export repeats the point with its running value, so take the newest.
    private static ReceivedPoint? FaultPoint(OtlpReceiver received) =>
        received.Points.LastOrDefault(p => p.Metric == "memsvc.core.faults" && Is(p.Attributes, "vm", VmId));

    private static ReceivedPoint? ResolutionPoint(OtlpReceiver received) =>
        received.Points.LastOrDefault(p => p.Metric == "memsvc.core.fault.resolution.duration" && Is(p.Attributes, "vm", VmId));

    private static ReceivedLog? BackendReadyLog(OtlpReceiver received) =>
        received.Logs.FirstOrDefault(l => Is(l.Attributes, "Backend", "simulated"));

    private static bool Is(IReadOnlyDictionary<string, object> attributes, string key, string value) =>
        attributes.TryGetValue(key, out var actual) && actual as string == value;

    // The exporter sends integral tags as OTLP ints, and kinds it has no type for as their text.
    private static ulong Number(object value) => Convert.ToUInt64(value, CultureInfo.InvariantCulture);
}
