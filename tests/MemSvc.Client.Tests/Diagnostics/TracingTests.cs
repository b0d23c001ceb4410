using System.Diagnostics;
using MemSvc.Client.Diagnostics;
using MemSvc.Client.Tests.Infrastructure;
using MemSvc.Contracts.V1;
using MemSvc.Testing;

namespace MemSvc.Client.Tests.Diagnostics;

/// <summary>
/// The SDK's spans ("MemSvc.Client") and the W3C trace context that takes the caller's trace to the in-process
/// server, whose ASP.NET Core span must be a child in the same trace.
/// </summary>
public sealed class TracingTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_call_is_a_client_span_under_the_callers_span_and_the_servers_span_descends_from_it()
    {
        await using var server = await TestServer.StartAsync();
        using var client = MemSvcClient.ForSocket(server.SocketPath);
        using var recorder = new TraceRecorder();
        var root = recorder.StartRoot();

        await client.Host.GetInfoAsync(Ct);

        var call = Assert.Single(recorder.Stopped, a => a.Source.Name == MemSvcClientDiagnostics.ActivitySourceName);
        Assert.Equal(("memsvc.v1.HostService/GetHostInfo", ActivityKind.Client, root.SpanId), (call.OperationName, call.Kind, call.ParentSpanId));
        Assert.Equal(
            [("rpc.system", "grpc"), ("rpc.service", "memsvc.v1.HostService"), ("rpc.method", "GetHostInfo"), ("rpc.grpc.status_code", "0")],
            call.TagObjects.Select(t => (t.Key, Convert.ToString(t.Value, System.Globalization.CultureInfo.InvariantCulture))));
        Assert.Equal(ActivityStatusCode.Unset, call.Status);

        // The gRPC and HTTP clients' own spans sit between (named by their sources, listened to here); the traceparent
        // the server got names the innermost of them, in the caller's trace.
        var served = await recorder.WaitForAsync(a => a.Source.Name == "Microsoft.AspNetCore");
        Assert.Equal((ActivityKind.Server, root.TraceId), (served.Kind, served.TraceId));
        Assert.Equal(["Microsoft.AspNetCore", "System.Net.Http", "Grpc.Net.Client", "MemSvc.Client", "MemSvc.Client.Tests"], recorder.Ancestry(served));
        Assert.Same(root, Activity.Current);
    }

    [Fact]
    public async Task Each_attempt_is_a_span_and_the_refused_ones_carry_their_status()
    {
        // A burst of 1 and a token every 2 s: the guest_memfd right after CreateVm is refused at first, then retried
        // after the server's retry_after_ms. (A token every 100 ms came back between the two calls on a loaded machine.)
        await using var server = await TestServer.StartAsync(("MemSvc:RateLimit:MutationBurst", "1"), ("MemSvc:RateLimit:MutationsPerMinute", "30"));
        using var client = new MemSvcClient(new MemSvcClientOptions { SocketPath = server.SocketPath, RetryBaseDelay = TimeSpan.FromMilliseconds(10) });
        await client.Vms.CreateAsync(new CreateVmRequest { VmId = "traced", VcpuCount = 1 }, Ct);
        using var recorder = new TraceRecorder();
        var root = recorder.StartRoot();

        await client.Memory.CreateGuestMemfdAsync("traced", 2 << 20, [], Ct);

        var attempts = recorder.Stopped.Where(a => a.Source.Name == MemSvcClientDiagnostics.ActivitySourceName).ToList();
        Assert.True(attempts.Count >= 2, $"{attempts.Count} attempt: the rate limit refused none");
        Assert.All(attempts, a => Assert.Equal(("memsvc.v1.GuestMemoryService/CreateGuestMemfd", root.SpanId), (a.OperationName, a.ParentSpanId)));
        Assert.All(attempts[..^1], a => Assert.Equal((8, ActivityStatusCode.Error, "ResourceExhausted"), (a.GetTagItem("rpc.grpc.status_code"), a.Status, a.StatusDescription)));
        Assert.Equal((0, ActivityStatusCode.Unset), (attempts[^1].GetTagItem("rpc.grpc.status_code"), attempts[^1].Status));
    }

    [Fact]
    public async Task Without_the_SDKs_source_the_gRPC_client_still_takes_the_callers_trace_to_the_server()
    {
        await using var server = await TestServer.StartAsync();
        using var client = MemSvcClient.ForSocket(server.SocketPath);
        using var recorder = new TraceRecorder(MemSvcClientDiagnostics.ActivitySourceName);
        var root = recorder.StartRoot();

        await client.Host.GetInfoAsync(Ct);

        var served = await recorder.WaitForAsync(a => a.Source.Name == "Microsoft.AspNetCore");
        Assert.Equal(root.TraceId, served.TraceId);
        Assert.Equal(["Microsoft.AspNetCore", "System.Net.Http", "Grpc.Net.Client", "MemSvc.Client.Tests"], recorder.Ancestry(served));
    }
}
