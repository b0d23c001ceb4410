using Grpc.Core;
using MemSvc.Client.Errors;
using MemSvc.Client.Tests.Infrastructure;
using MemSvc.Contracts.V1;
using MemSvc.Testing;

namespace MemSvc.Client.Tests.Errors;

/// <summary>Server errors reach the caller typed: status, ErrorInfo reason and metadata, BadRequest field.</summary>
public sealed class TypedErrorTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_missing_vm_is_not_found_with_its_reason_and_domain()
    {
        await using var server = await TestServer.StartAsync();
        using var client = MemSvcClient.ForAddress(server.Loopback);

        var error = await Assert.ThrowsAsync<MemSvcException>(() => client.Vms.GetAsync("nowhere", Ct));

        Assert.Equal(StatusCode.NotFound, error.StatusCode);
        Assert.Equal("VM_NOT_FOUND", error.Reason);
        Assert.Equal("memsvc", error.Domain);
        Assert.Contains("VM_NOT_FOUND", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_bad_field_names_the_field_at_fault()
    {
        await using var server = await TestServer.StartAsync();
        using var client = MemSvcClient.ForAddress(server.Loopback);
        var vm = await Memory.VmWithMemoryAsync(client, "fields", FaultPolicy.Auto, vcpus: 1);

        var error = await Assert.ThrowsAsync<MemSvcException>(() => client.Memory.SetMemoryAttributesAsync(vm.Name, 123, 4096, isPrivate: true, Ct));

        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
        Assert.NotNull(error.Reason);
        Assert.Equal("gpa", error.Field);
        Assert.Contains(error.FieldViolations, v => v.Field == "gpa" && v.Description.Length > 0);
    }

    [Fact]
    public async Task A_kernel_error_carries_its_errno_in_the_metadata()
    {
        await using var server = await TestServer.StartAsync();
        using var client = MemSvcClient.ForAddress(server.Loopback);
        var vm = await Memory.VmWithMemoryAsync(client, "errno", FaultPolicy.Auto, vcpus: 1);

        // A second memslot over the first's addresses: KVM's EEXIST.
        var error = await Assert.ThrowsAsync<MemSvcException>(() => client.Memory.SetMemoryRegionAsync(new SetMemoryRegionRequest
        {
            Parent = vm.Name,
            Slot = 7,
            Gpa = 0,
            Size = 4096,
        }, Ct));

        Assert.Equal(StatusCode.AlreadyExists, error.StatusCode);
        Assert.Equal("EEXIST", error.Metadata["errno"]);
    }

    [Fact]
    public async Task Cancelling_a_call_surfaces_as_cancellation_not_as_a_server_error()
    {
        await using var server = await TestServer.StartAsync();
        using var client = MemSvcClient.ForAddress(server.Loopback);
        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => client.Host.GetInfoAsync(cancelled.Token));
    }
}
