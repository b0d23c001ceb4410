using System.Diagnostics;
using MemSvc.Contracts.V1;
using MemSvc.Server.Tests.Infrastructure;
using static MemSvc.Server.Tests.Infrastructure.Steps;

namespace MemSvc.Server.Tests.Telemetry;

/// <summary>
/// The fault flow seen through OpenTelemetry: a private write on a sw-protected VM faults, the orchestrator
/// resolves it by converting, and the RPC, the backend operations and the metrics all say so. Core's Meter and
/// ActivitySource are process-wide, so these tests run beside the others and pick out their own VM by a unique id.
/// </summary>
public sealed class TelemetryTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_fault_resolved_by_converting_yields_an_RPC_span_with_a_child_conversion_span_and_fault_and_latency_points()
    {
        var capture = new TelemetryCapture();
        await using var server = await RunningServer.StartAsync(capture.Attach);
        var clients = new Clients(server.LoopbackChannel());
        var vmId = "otel-" + Guid.NewGuid().ToString("N")[..12];
        var vm = await Scenario.VmWithMemoryAsync(clients, vmId, FaultPolicy.Orchestrator);
        await clients.Vcpus.LoadGuestProgramAsync(new LoadGuestProgramRequest { Name = vm.Name + "/vcpus/0", Program = Program(Write(Page, 7, AccessIntent.Private), Halt()) }, cancellationToken: Ct);
        await using var watcher = Watcher.Start(clients, vm.Name, filter: new EventFilter { Kinds = { EventKind.MemoryFault } });
        await clients.Vcpus.StartVcpuAsync(new StartVcpuRequest { Name = vm.Name + "/vcpus/0" }, cancellationToken: Ct);
        var fault = (await watcher.NextAsync()).MemoryFault;
        await clients.Events.ResolveFaultAsync(new ResolveFaultRequest { Vm = vm.Name, FaultId = fault.FaultId, Action = FaultAction.Convert }, cancellationToken: Ct);
        await Waits.VcpuStateAsync(clients, vm.Name + "/vcpus/0", VcpuState.Halted);

        var spans = await capture.SpansAsync(s => RpcSpanOf(s, ConversionSpan(s, vmId)) is not null);

        var conversion = ConversionSpan(spans, vmId)!;
        Assert.Equal((Page, Page, 0), ((ulong)conversion.GetTagItem("gpa")!, (ulong)conversion.GetTagItem("size")!, (int)conversion.GetTagItem("vcpu")!));
        var resolve = spans.Single(s => s.SpanId == conversion.ParentSpanId);
        Assert.Equal(("memsvc.core.resolve_fault", vmId), (resolve.OperationName, (string)resolve.GetTagItem("vm")!));
        var rpc = RpcSpanOf(spans, conversion)!;
        Assert.Equal(conversion.TraceId, rpc.TraceId);
        Assert.Contains("memsvc.v1.EventService/ResolveFault", rpc.DisplayName, StringComparison.Ordinal);

        var faults = capture.Points(server.Services, "memsvc.core.faults", vmId);
        var faultPoint = Assert.Single(faults);
        Assert.Equal(("private", 1L), ((string)TelemetryCapture.Tag(faultPoint, "direction")!, faultPoint.GetSumLong()));
        var conversions = capture.Points(server.Services, "memsvc.core.conversion.duration", vmId);
        var conversionPoint = Assert.Single(conversions);
        Assert.Equal(("private", "orchestrator", 1L), ((string)TelemetryCapture.Tag(conversionPoint, "direction")!, (string)TelemetryCapture.Tag(conversionPoint, "initiator")!, conversionPoint.GetHistogramCount()));
        var resolution = Assert.Single(capture.Points(server.Services, "memsvc.core.fault.resolution.duration", vmId));
        Assert.Equal(1L, resolution.GetHistogramCount());
        Assert.NotEmpty(capture.Points(server.Services, "memsvc.core.watcher.lag", vmId));
        var memory = capture.Points(server.Services, "memsvc.core.memory.bytes", vmId);
        Assert.Equal((long)Page, memory.Single(p => (string)TelemetryCapture.Tag(p, "attribute")! == "private").GetGaugeLastValueLong());
    }

    [Fact]
    public async Task Another_server_in_the_process_stopping_leaves_this_servers_metric_streams_running()
    {
        var capture = new TelemetryCapture();
        await using var server = await RunningServer.StartAsync(capture.Attach);
        var clients = new Clients(server.LoopbackChannel());
        var vmId = "otel-" + Guid.NewGuid().ToString("N")[..12];
        var vm = await Scenario.VmWithMemoryAsync(clients, vmId);
        var convert = new ConvertMemoryRequest { Vm = vm.Name, Gpa = 0, Size = Page, Target = MemoryVisibility.Private };
        await clients.Memory.ConvertMemoryAsync(convert, cancellationToken: Ct);
        var before = Assert.Single(capture.Points(server.Services, "memsvc.core.conversions", vmId)).GetSumLong();

        // The other server's VM manager goes away with it; Core's Meter, shared by both, must stay.
        var other = await RunningServer.StartAsync();
        await Scenario.VmWithMemoryAsync(new Clients(other.LoopbackChannel()), "otel-other-" + Guid.NewGuid().ToString("N")[..12]);
        await other.DisposeAsync();
        convert.Gpa = Page;
        await clients.Memory.ConvertMemoryAsync(convert, cancellationToken: Ct);

        Assert.Equal(1L, before);
        Assert.Equal(2L, Assert.Single(capture.Points(server.Services, "memsvc.core.conversions", vmId)).GetSumLong());
        var memory = capture.Points(server.Services, "memsvc.core.memory.bytes", vmId);
        Assert.Equal(2 * (long)Page, memory.Single(p => (string)TelemetryCapture.Tag(p, "attribute")! == "private").GetGaugeLastValueLong());
    }

    [Fact]
    public async Task With_an_OTLP_endpoint_configured_the_server_starts_and_serves_even_when_nothing_listens_there()
    {
        await using var server = await RunningServer.StartAsync(("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:9"));
        var clients = new Clients(server.LoopbackChannel());

        var info = await clients.Host.GetHostInfoAsync(new GetHostInfoRequest(), cancellationToken: Ct);

        Assert.NotEmpty(info.Backends);
    }

    private static Activity? ConversionSpan(List<Activity> spans, string vmId) =>
        spans.SingleOrDefault(s => s.OperationName == "memsvc.core.convert" && s.GetTagItem("vm") as string == vmId);

    /// <summary>The nearest server span above <paramref name="span"/>: the RPC it ran in.</summary>
    private static Activity? RpcSpanOf(List<Activity> spans, Activity? span)
    {
        while (span is not null && span.Kind != ActivityKind.Server)
        {
            var parentId = span.ParentSpanId;
            span = spans.SingleOrDefault(s => s.SpanId == parentId);
        }

        return span;
    }
}
