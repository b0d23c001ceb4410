using Grpc.Core;
using Grpc.Net.Client;
using MemSvc.Contracts.V1;
using MemSvc.Server.Identity;
using MemSvc.Server.Tests.Infrastructure;
using MemSvc.Server.Tests.Security;
using Microsoft.Extensions.DependencyInjection;

namespace MemSvc.Server.Tests.Telemetry;

/// <summary>Calls refused at admission are counted by owner, method and reason, so that throttling is visible.</summary>
public sealed class RefusalMetricsTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Calls_over_the_rate_limit_are_counted_by_owner_method_and_reason()
    {
        // The Meter is process-wide: a principal no other test uses keeps this test's points apart.
        var principal = "cert:refused-" + Guid.NewGuid().ToString("N")[..12];
        var capture = new TelemetryCapture();
        await using var server = await RunningServer.StartAsync(
            builder =>
            {
                capture.Attach(builder);
                builder.Services.AddSingleton<ICallerResolver, PrincipalHeaderResolver>();
            },
            ("MemSvc:RateLimit:MutationsPerMinute", "1"),
            ("MemSvc:RateLimit:MutationBurst", "1"));
        var clients = new Clients(GrpcChannel.ForAddress(server.Loopback, new GrpcChannelOptions { HttpHandler = new PrincipalHandler(principal), DisposeHttpClient = true }));
        await clients.Vms.CreateVmAsync(new() { VmId = "first", VcpuCount = 1, Backend = Backend.Simulated }, cancellationToken: Ct);
        for (var i = 0; i < 2; i++)
        {
            await RpcAssert.FailsAsync(
                () => clients.Vms.CreateVmAsync(new() { VmId = "second", VcpuCount = 1, Backend = Backend.Simulated }, cancellationToken: Ct).ResponseAsync,
                StatusCode.ResourceExhausted,
                "RATE_LIMITED");
        }

        var point = Assert.Single(capture.Points(server.Services, "memsvc.server.calls.refused", p => TelemetryCapture.Tag(p, "owner") as string == principal));
        Assert.Equal(
            ("/memsvc.v1.VmService/CreateVm", "rate_limited", 2L),
            ((string)TelemetryCapture.Tag(point, "method")!, (string)TelemetryCapture.Tag(point, "reason")!, point.GetSumLong()));
    }
}
