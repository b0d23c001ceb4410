using Google.Protobuf.WellKnownTypes;
using Google.Rpc;
using Grpc.Core;
using MemSvc.Client.Errors;
using MemSvc.Client.Resilience;
using MemSvc.Client.Tests.Infrastructure;
using MemSvc.Contracts.V1;
using MemSvc.Testing;

namespace MemSvc.Client.Tests.Resilience;

/// <summary>
/// Calls the server refuses before running them (its rate limit, its in-flight limit, a handoff to a new process) are
/// sent again by the SDK, non-idempotent ones included, after the delay the server names; every other quota refusal
/// is final.
/// </summary>
public sealed class AdmissionRetryTests
{
    private const int Creates = 5;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Non_idempotent_calls_refused_by_the_rate_limit_are_sent_again_and_each_happens_once()
    {
        // A burst of 2 and a token every 500 ms, and no queue: CreateVm and the first CreateGuestMemfd pass, the others
        // are refused at once and sent again after the server's delay.
        await using var server = await TestServer.StartAsync(("MemSvc:RateLimit:MutationBurst", "2"), ("MemSvc:RateLimit:MutationsPerMinute", "120"), ("MemSvc:RateLimit:MaxQueueWait", "00:00:00"));
        var injector = new FaultInjector();
        using var client = Client(server, injector, maxRetryAttempts: 4);
        await client.Vms.CreateAsync(new CreateVmRequest { VmId = "limited", VcpuCount = 1 }, Ct);

        for (var i = 0; i < Creates; i++)
        {
            await client.Memory.CreateGuestMemfdAsync("limited", 2 * 1024 * 1024, [], Ct);
        }

        var made = await client.Memory.ListGuestMemfdsAsync("limited", Ct).Select(g => g.Name).ToListAsync(Ct);
        Assert.Equal(Enumerable.Range(1, Creates).Select(i => $"vms/limited/guestMemfds/{i}"), made);
        Assert.True(injector.Attempts("CreateGuestMemfd") > Creates, $"{injector.Attempts("CreateGuestMemfd")} attempts: the rate limit never refused one");
    }

    [Fact]
    public async Task Without_retries_the_refusal_reaches_the_caller_with_the_servers_delay_and_changes_nothing()
    {
        await using var server = await TestServer.StartAsync(("MemSvc:RateLimit:MutationBurst", "2"), ("MemSvc:RateLimit:MutationsPerMinute", "1"));
        using var client = Client(server, new FaultInjector(), maxRetryAttempts: 0);
        await client.Vms.CreateAsync(new CreateVmRequest { VmId = "refused", VcpuCount = 1 }, Ct);
        await client.Memory.CreateGuestMemfdAsync("refused", 2 * 1024 * 1024, [], Ct);

        var error = await Assert.ThrowsAsync<MemSvcException>(() => client.Memory.CreateGuestMemfdAsync("refused", 2 * 1024 * 1024, [], Ct));

        Assert.Equal((StatusCode.ResourceExhausted, "RATE_LIMITED", "60000"), (error.StatusCode, error.Reason, error.Metadata["retry_after_ms"]));
        Assert.Single(await client.Memory.ListGuestMemfdsAsync("refused", Ct).ToListAsync(Ct));
    }

    [Theory]
    [InlineData("RATE_LIMITED", null, true)]
    [InlineData("QUOTA_EXCEEDED", "max_in_flight_requests_per_owner", true)]
    [InlineData("QUOTA_EXCEEDED", "max_vms_per_owner", false)]
    [InlineData("QUOTA_EXCEEDED", "max_guest_memory_bytes_per_owner", false)]
    [InlineData("HANDOFF_IN_PROGRESS", null, true, StatusCode.Unavailable)]
    [InlineData("SHUTTING_DOWN", null, false, StatusCode.Unavailable)]
    public void Only_the_rate_and_in_flight_limits_and_a_handoff_are_admission_refusals(string reason, string? quota, bool retried, StatusCode code = StatusCode.ResourceExhausted)
    {
        var info = new ErrorInfo { Reason = reason, Domain = "memsvc" };
        if (quota is not null)
        {
            info.Metadata["quota"] = quota;
        }

        var status = new Google.Rpc.Status { Code = (int)code, Message = reason };
        status.Details.Add(Any.Pack(info));

        Assert.Equal(retried, AdmissionRefusal.Is(status.ToRpcException(), out _));
    }

    private static MemSvcClient Client(TestServer server, FaultInjector injector, int maxRetryAttempts)
    {
        var options = new MemSvcClientOptions
        {
            Address = server.Loopback,
            MaxRetryAttempts = maxRetryAttempts,
            RetryBaseDelay = TimeSpan.FromMilliseconds(10),
            RetryMaxDelay = TimeSpan.FromSeconds(2),
        };
        options.Interceptors.Add(injector);
        return new MemSvcClient(options);
    }
}
