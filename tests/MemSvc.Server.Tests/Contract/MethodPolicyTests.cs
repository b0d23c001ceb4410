using MemSvc.Contracts.V1;

namespace MemSvc.Server.Tests.Contract;

/// <summary>
/// Every RPC declares its <c>(memsvc.v1.policy)</c>, and the declarations hold together; the rate and in-flight
/// limits and the SDK's retries read nothing else.
/// </summary>
public sealed class MethodPolicyTests
{
    public static TheoryData<string> Methods => [.. MethodPolicies.Methods.Select(MethodPolicies.Path).Order(StringComparer.Ordinal)];

    [Fact]
    public void The_contract_has_the_29_RPCs_of_the_five_services()
    {
        Assert.Equal(29, MethodPolicies.Methods.Count);
        Assert.Equal(
            ["EventService", "GuestMemoryService", "HostService", "VcpuService", "VmService"],
            MethodPolicies.Methods.Select(m => m.Service.Name).Distinct().Order(StringComparer.Ordinal));
    }

    [Theory]
    [MemberData(nameof(Methods))]
    public void Every_RPC_declares_a_policy_that_holds_together(string path)
    {
        var method = MethodPolicies.Methods.Single(m => MethodPolicies.Path(m) == path);
        var policy = MethodPolicies.Declared(method);

        Assert.NotNull(policy);
        Assert.NotEqual(Idempotency.Unspecified, policy.Idempotency);
        Assert.Equal(!policy.Mutates, policy.Idempotency == Idempotency.NoSideEffects);
        Assert.True(policy.Mutates || !policy.RateLimited, "only a call that mutates takes a rate token");
        Assert.True(!method.IsServerStreaming || !policy.InFlightLimited, "a stream holds no in-flight slot");
        Assert.Equal(policy, MethodPolicies.Find(path));
    }

    // The lists the limits kept by hand before the declarations: the same RPCs, so behaviour did not change.
    [Fact]
    public void The_rate_limited_RPCs_are_the_fifteen_that_change_state_without_ResolveFault()
    {
        Assert.Equal(
            [
                "AllocateGuestMemfd", "ConvertMemory", "CreateGuestMemfd", "CreateVm", "DeleteGuestMemfd", "DeleteMemoryRegion",
                "DeleteVm", "DiscardGuestMemfd", "LoadGuestProgram", "PauseVcpu", "RevokeMemoryRegionBacking",
                "SetMemoryAttributes", "SetMemoryRegion", "StartVcpu", "WriteGuestMemory",
            ],
            Names(p => p.RateLimited));
    }

    [Fact]
    public void Every_RPC_but_ResolveFault_and_the_WatchEvents_stream_holds_an_in_flight_slot()
    {
        Assert.Equal(["ResolveFault", "WatchEvents"], Names(p => !p.InFlightLimited));
    }

    [Fact]
    public void Paths_outside_the_contract_have_no_policy()
    {
        Assert.Null(MethodPolicies.Find("/grpc.health.v1.Health/Check"));
        Assert.Null(MethodPolicies.Find("/memsvc.v1.VmService/NoSuchMethod"));
        Assert.True(MethodPolicies.Find("/memsvc.v1.VmService/CreateVm")!.RateLimited);
    }

    private static List<string> Names(Func<MethodPolicy, bool> predicate) =>
        [.. MethodPolicies.Methods.Where(m => predicate(MethodPolicies.Declared(m)!)).Select(m => m.Name).Order(StringComparer.Ordinal)];
}
