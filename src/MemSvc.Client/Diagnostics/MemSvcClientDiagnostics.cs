namespace MemSvc.Client.Diagnostics;

/// <summary>
/// The names to give a tracer or meter provider, e.g. OpenTelemetry's
/// <c>tracing.AddSource(MemSvcClientDiagnostics.ActivitySourceName)</c>.
/// </summary>
public static class MemSvcClientDiagnostics
{
    /// <summary>
    /// The activity source of the client's spans: one per call attempt, named "memsvc.v1.{Service}/{Method}", with
    /// rpc.system, rpc.service, rpc.method and rpc.grpc.status_code. Their context travels to the server as W3C
    /// traceparent, so the server's spans join the caller's trace.
    /// </summary>
    public const string ActivitySourceName = "MemSvc.Client";

    /// <summary>The meter of the fault orchestrator's counters (memsvc.client.orchestrator.faults).</summary>
    public const string MeterName = "MemSvc.Client";
}
