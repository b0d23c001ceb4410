using Grpc.Core;
using MemSvc.Contracts.V1;
using MemSvc.Server.Tests.Infrastructure;

namespace MemSvc.Server.Tests.Security;

/// <summary>MemSvc:RateLimit: a token bucket per owner for state-changing calls only.</summary>
public sealed class RateLimitTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task State_changing_calls_past_the_burst_are_refused_RATE_LIMITED_while_reads_go_on()
    {
        // One token a minute after a burst of 3: nothing refills during the test.
        await using var server = await RunningServer.StartAsync(("MemSvc:RateLimit:MutationsPerMinute", "1"), ("MemSvc:RateLimit:MutationBurst", "3"));
        var clients = new Clients(server.LoopbackChannel());
        for (var i = 0; i < 3; i++)
        {
            await clients.Vms.CreateVmAsync(new() { VmId = $"vm-{i}", VcpuCount = 1, Backend = Backend.Simulated }, cancellationToken: Ct);
        }

        var refused = await RpcAssert.FailsAsync(
            () => clients.Vms.CreateVmAsync(new() { VmId = "vm-3", VcpuCount = 1, Backend = Backend.Simulated }, cancellationToken: Ct).ResponseAsync,
            StatusCode.ResourceExhausted,
            "RATE_LIMITED");
        var deleteRefused = await Assert.ThrowsAsync<RpcException>(
            () => clients.Vms.DeleteVmAsync(new() { Name = "vms/vm-0" }, cancellationToken: Ct).ResponseAsync);
        var listed = await clients.Vms.ListVmsAsync(new(), cancellationToken: Ct);

        Assert.Equal("60000", refused.Info.Metadata["retry_after_ms"]);
        Assert.Equal(StatusCode.ResourceExhausted, deleteRefused.StatusCode);
        Assert.Equal(["vms/vm-0", "vms/vm-1", "vms/vm-2"], listed.Vms.Select(v => v.Name));
    }

    [Fact]
    public async Task Calls_past_the_rate_wait_for_their_tokens_in_order_instead_of_being_refused()
    {
        // A burst of 1 and a token every 100 ms: 5 calls at once, 4 past the rate, all within the 10 s a call may wait.
        await using var server = await RunningServer.StartAsync(
            ("MemSvc:RateLimit:MutationsPerMinute", "600"), ("MemSvc:RateLimit:MutationBurst", "1"), ("MemSvc:RateLimit:MaxQueueWait", "00:00:10"));
        var clients = new Clients(server.LoopbackChannel());

        var created = await Task.WhenAll(Enumerable.Range(0, 5).Select(i =>
            clients.Vms.CreateVmAsync(new() { VmId = $"queued-{i}", VcpuCount = 1, Backend = Backend.Simulated }, cancellationToken: Ct).ResponseAsync));

        Assert.Equal(["vms/queued-0", "vms/queued-1", "vms/queued-2", "vms/queued-3", "vms/queued-4"], created.Select(c => c.Vm.Name).Order(StringComparer.Ordinal));
    }
}
