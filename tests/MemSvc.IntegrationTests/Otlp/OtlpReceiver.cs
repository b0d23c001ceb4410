using System.Collections.Concurrent;
using System.Net;
using Grpc.Core;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace MemSvc.IntegrationTests.Otlp;

/// <summary>
/// An OTLP/gRPC endpoint (trace, metrics and logs services) on the host's loopback, keeping everything it is
/// sent for the test to look at. To MemSvc it stands in for an OpenTelemetry collector; behind a real collector
/// (ComposeUpTests) it is where the collector exports, so that the test reads the collector's output.
/// </summary>
internal sealed class OtlpReceiver : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly Received _received;

    private OtlpReceiver(WebApplication app, Received received, int port)
    {
        _app = app;
        _received = received;
        Endpoint = $"http://127.0.0.1:{port}";
    }

    /// <summary>The value for OTEL_EXPORTER_OTLP_ENDPOINT (protocol grpc).</summary>
    public string Endpoint { get; }

    public IReadOnlyCollection<ReceivedSpan> Spans => _received.Spans;

    public IReadOnlyCollection<ReceivedPoint> Points => _received.Points;

    public IReadOnlyCollection<ReceivedLog> Logs => _received.Logs;

    /// <param name="port">The loopback port: 0 for any free one, 4317 where a configuration names the collector's.</param>
    public static async Task<OtlpReceiver> StartAsync(CancellationToken cancellationToken, int port = 0)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(kestrel =>
            kestrel.Listen(IPAddress.Loopback, port, listen => listen.Protocols = HttpProtocols.Http2));
        builder.Services.AddGrpc();
        var received = new Received();
        builder.Services.AddSingleton(received);
        var app = builder.Build();
        app.MapGrpcService<TraceReceiver>();
        app.MapGrpcService<MetricsReceiver>();
        app.MapGrpcService<LogsReceiver>();
        await app.StartAsync(cancellationToken);
        var address = new Uri(app.Urls.Single());
        return new OtlpReceiver(app, received, address.Port);
    }

    /// <summary>Waits until what has arrived satisfies <paramref name="arrived"/>; exporters send in batches.</summary>
    public async Task WaitForAsync(Func<OtlpReceiver, bool> arrived, TimeSpan timeout, string waitingFor)
    {
        using var cancellation = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        cancellation.CancelAfter(timeout);
        while (!arrived(this))
        {
            try
            {
                await _received.Changed.WaitAsync(cancellation.Token);
            }
            catch (OperationCanceledException) when (!TestContext.Current.CancellationToken.IsCancellationRequested)
            {
                throw new TimeoutException(
                    $"no OTLP export within {timeout.TotalSeconds:F0} s satisfied: {waitingFor} " +
                    $"({Spans.Count} spans, {Points.Count} metric points, {Logs.Count} log records arrived)");
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    /// <summary>Everything exported so far, flattened: resource attributes are copied onto each item.</summary>
    internal sealed class Received
    {
        public ConcurrentQueue<ReceivedSpan> Spans { get; } = new();

        public ConcurrentQueue<ReceivedPoint> Points { get; } = new();

        public ConcurrentQueue<ReceivedLog> Logs { get; } = new();

        /// <summary>Released once per export, so that a waiter looks again.</summary>
        public SemaphoreSlim Changed { get; } = new(0);
    }

    private sealed class TraceReceiver(Received received) : TraceService.TraceServiceBase
    {
        public override Task<ExportTraceServiceResponse> Export(ExportTraceServiceRequest request, ServerCallContext context)
        {
            var sender = context.GetHttpContext().Request.Headers.UserAgent.ToString();
            foreach (var resource in request.ResourceSpans)
            {
                foreach (var span in resource.ScopeSpans.SelectMany(scope => scope.Spans))
                {
                    received.Spans.Enqueue(new ReceivedSpan(span, Attributes.Of(resource.Resource?.Attributes), sender));
                }
            }

            received.Changed.Release();
            return Task.FromResult(new ExportTraceServiceResponse());
        }
    }

    private sealed class MetricsReceiver(Received received) : MetricsService.MetricsServiceBase
    {
        public override Task<ExportMetricsServiceResponse> Export(ExportMetricsServiceRequest request, ServerCallContext context)
        {
            foreach (var resource in request.ResourceMetrics)
            {
                foreach (var metric in resource.ScopeMetrics.SelectMany(scope => scope.Metrics))
                {
                    foreach (var point in ReceivedPoint.Of(metric))
                    {
                        received.Points.Enqueue(point);
                    }
                }
            }

            received.Changed.Release();
            return Task.FromResult(new ExportMetricsServiceResponse());
        }
    }

    private sealed class LogsReceiver(Received received) : LogsService.LogsServiceBase
    {
        public override Task<ExportLogsServiceResponse> Export(ExportLogsServiceRequest request, ServerCallContext context)
        {
            foreach (var resource in request.ResourceLogs)
            {
                foreach (var log in resource.ScopeLogs.SelectMany(scope => scope.LogRecords))
                {
                    received.Logs.Enqueue(new ReceivedLog(log.SeverityNumber, log.Body?.StringValue ?? string.Empty, Attributes.Of(log.Attributes)));
                }
            }

            received.Changed.Release();
            return Task.FromResult(new ExportLogsServiceResponse());
        }
    }
}
