using MemSvc.Client.Resilience;
using MemSvc.Contracts.V1;

namespace MemSvc.Client.Tests.Resilience;

/// <summary>
/// The SDK's retry class of each RPC, read from the protos' <c>(memsvc.v1.policy)</c>: the same classes the SDK
/// kept by hand before, RPC by RPC.
/// </summary>
public sealed class CallKindsTests
{
    public static TheoryData<string, string, CallKind> Rows => new()
    {
        { "HostService", "GetHostInfo", CallKind.Read },
        { "VmService", "CreateVm", CallKind.IdempotentWrite },
        { "VmService", "GetVm", CallKind.Read },
        { "VmService", "ListVms", CallKind.Read },
        { "VmService", "DeleteVm", CallKind.Delete },
        { "GuestMemoryService", "CreateGuestMemfd", CallKind.IdempotentWrite },
        { "GuestMemoryService", "GetGuestMemfd", CallKind.Read },
        { "GuestMemoryService", "ListGuestMemfds", CallKind.Read },
        { "GuestMemoryService", "DeleteGuestMemfd", CallKind.Delete },
        { "GuestMemoryService", "AllocateGuestMemfd", CallKind.IdempotentWrite },
        { "GuestMemoryService", "DiscardGuestMemfd", CallKind.IdempotentWrite },
        { "GuestMemoryService", "SetMemoryRegion", CallKind.NonIdempotent },
        { "GuestMemoryService", "GetMemoryRegion", CallKind.Read },
        { "GuestMemoryService", "DeleteMemoryRegion", CallKind.Delete },
        { "GuestMemoryService", "ListMemoryRegions", CallKind.Read },
        { "GuestMemoryService", "RevokeMemoryRegionBacking", CallKind.NonIdempotent },
        { "GuestMemoryService", "SetMemoryAttributes", CallKind.IdempotentWrite },
        { "GuestMemoryService", "GetMemoryAttributes", CallKind.Read },
        { "GuestMemoryService", "ConvertMemory", CallKind.IdempotentWrite },
        { "GuestMemoryService", "ReadGuestMemory", CallKind.Read },
        { "GuestMemoryService", "WriteGuestMemory", CallKind.IdempotentWrite },
        { "VcpuService", "LoadGuestProgram", CallKind.IdempotentWrite },
        { "VcpuService", "StartVcpu", CallKind.NonIdempotent },
        { "VcpuService", "PauseVcpu", CallKind.NonIdempotent },
        { "VcpuService", "GetVcpu", CallKind.Read },
        { "VcpuService", "ListVcpus", CallKind.Read },
        { "EventService", "ResolveFault", CallKind.NonIdempotent },
        { "EventService", "ListPendingFaults", CallKind.Read },
    };

    [Theory]
    [MemberData(nameof(Rows))]
    public void Each_unary_RPC_has_the_kind_its_declaration_gives(string service, string method, CallKind kind)
    {
        var descriptor = MethodPolicies.Methods.Select(m => m.Service).First(s => s.Name == service);

        Assert.Equal(kind, CallKinds.Of(descriptor, method));
    }

    [Fact]
    public void The_rows_cover_every_unary_RPC()
    {
        var unary = MethodPolicies.Methods.Where(m => !m.IsServerStreaming && !m.IsClientStreaming).Select(m => m.Name).Order(StringComparer.Ordinal);

        Assert.Equal(unary, Rows.Select(r => r.Data.Item2).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void An_RPC_without_a_declaration_is_never_repeated_once_it_may_have_run()
    {
        Assert.Equal(CallKind.NonIdempotent, CallKinds.Of(null));
        Assert.Equal(CallKind.NonIdempotent, CallKinds.Of(VmService.Descriptor, "NoSuchMethod"));
        Assert.Equal(CallKind.NonIdempotent, CallKinds.Of(new MethodPolicy { Mutates = true }));
    }
}
