using Grpc.Core;
using MemSvc.Client.Errors;
using MemSvc.Client.Tests.Infrastructure;
using MemSvc.Contracts.V1;
using MemSvc.Testing;

namespace MemSvc.Client.Tests.Resilience;

/// <summary>What the SDK retries (reads, idempotent mutations, deletes) and what it never does (the rest).</summary>
public sealed class RetryTests : IAsyncLifetime
{
    private readonly FaultInjector _injector = new();
    private TestServer _server = null!;
    private MemSvcClient _client = null!;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync()
    {
        _server = await TestServer.StartAsync();
        var options = new MemSvcClientOptions
        {
            Address = _server.Loopback,
            MaxRetryAttempts = 4,
            RetryBaseDelay = TimeSpan.FromMilliseconds(1),
            RetryMaxDelay = TimeSpan.FromMilliseconds(5),
            DefaultDeadline = TimeSpan.FromSeconds(20),
        };
        options.Interceptors.Add(_injector);
        _client = new MemSvcClient(options);
    }

    public async ValueTask DisposeAsync()
    {
        _client.Dispose();
        await _server.DisposeAsync();
    }

    [Fact]
    public async Task A_read_is_retried_through_unavailable_and_deadline_exceeded()
    {
        var vm = await _client.Vms.CreateAsync(new CreateVmRequest { VmId = "reads", VcpuCount = 1 }, Ct);
        _injector.FailBefore("GetVm", StatusCode.Unavailable, StatusCode.DeadlineExceeded, StatusCode.Unavailable);

        var found = await _client.Vms.GetAsync("reads", Ct);

        Assert.Equal(vm, found);
        Assert.Equal(4, _injector.Attempts("GetVm"));
    }

    [Fact]
    public async Task Retries_end_after_the_configured_attempts_with_the_last_status()
    {
        _injector.FailBefore("GetHostInfo", Enumerable.Repeat(StatusCode.Unavailable, 10).ToArray());

        var error = await Assert.ThrowsAsync<MemSvcException>(() => _client.Host.GetInfoAsync(Ct));

        Assert.Equal(StatusCode.Unavailable, error.StatusCode);
        Assert.Equal(5, _injector.Attempts("GetHostInfo"));
    }

    [Fact]
    public async Task A_create_whose_answer_was_lost_is_retried_with_its_request_id_and_makes_one_vm()
    {
        _injector.FailAfter("CreateVm", 2);

        var vm = await _client.Vms.CreateAsync(new CreateVmRequest { VmId = "once", VcpuCount = 1 }, Ct);

        Assert.Equal("vms/once", vm.Name);
        Assert.Equal(3, _injector.Attempts("CreateVm"));
        Assert.Equal(["vms/once"], await _client.Vms.ListAsync(Ct).Select(v => v.Name).ToListAsync(Ct));
    }

    [Fact]
    public async Task A_guest_memfd_create_whose_answer_was_lost_is_retried_with_its_request_id_and_makes_one_file()
    {
        var vm = await _client.Vms.CreateAsync(new CreateVmRequest { VmId = "one-file", VcpuCount = 1 }, Ct);
        _injector.FailAfter("CreateGuestMemfd", 2);

        var file = await _client.Memory.CreateGuestMemfdAsync(vm.Name, 2 * 1024 * 1024, [], Ct);

        Assert.Equal("vms/one-file/guestMemfds/1", file.Name);
        Assert.Equal(3, _injector.Attempts("CreateGuestMemfd"));
        Assert.Equal(["vms/one-file/guestMemfds/1"], await _client.Memory.ListGuestMemfdsAsync(vm.Name, Ct).Select(g => g.Name).ToListAsync(Ct));
    }

    [Fact]
    public async Task A_delete_whose_answer_was_lost_succeeds_on_the_retry_that_finds_nothing()
    {
        await _client.Vms.CreateAsync(new CreateVmRequest { VmId = "gone", VcpuCount = 1 }, Ct);
        _injector.FailAfter("DeleteVm", 1);

        await _client.Vms.DeleteAsync("gone", Ct);

        Assert.Equal(2, _injector.Attempts("DeleteVm"));
        var error = await Assert.ThrowsAsync<MemSvcException>(() => _client.Vms.GetAsync("gone", Ct));
        Assert.Equal(StatusCode.NotFound, error.StatusCode);
    }

    [Fact]
    public async Task A_delete_of_something_that_never_existed_still_fails_not_found()
    {
        var error = await Assert.ThrowsAsync<MemSvcException>(() => _client.Vms.DeleteAsync("never", Ct));

        Assert.Equal(StatusCode.NotFound, error.StatusCode);
        Assert.Equal(1, _injector.Attempts("DeleteVm"));
    }

    [Fact]
    public async Task An_idempotent_mutation_is_retried_on_unavailable_but_not_on_deadline_exceeded()
    {
        var vm = await Memory.VmWithMemoryAsync(_client, "attrs", FaultPolicy.Auto, vcpus: 1);
        _injector.FailBefore("SetMemoryAttributes", StatusCode.Unavailable, StatusCode.Unavailable);
        await _client.Memory.SetMemoryAttributesAsync(vm.Name, 0, 4096, isPrivate: true, Ct);
        Assert.Equal(3, _injector.Attempts("SetMemoryAttributes"));

        // A deadline may strike after the server applied the change: the caller decides, not the SDK.
        _injector.FailBefore("SetMemoryAttributes", StatusCode.DeadlineExceeded);
        var error = await Assert.ThrowsAsync<MemSvcException>(() => _client.Memory.SetMemoryAttributesAsync(vm.Name, 0, 4096, isPrivate: false, Ct));
        Assert.Equal(StatusCode.DeadlineExceeded, error.StatusCode);
        Assert.Equal(4, _injector.Attempts("SetMemoryAttributes"));
    }

    [Fact]
    public async Task Non_idempotent_calls_are_never_retried()
    {
        var vm = await Memory.VmWithMemoryAsync(_client, "once-only", FaultPolicy.Auto, vcpus: 1);
        await _client.Vcpus.LoadProgramAsync(vm.Name, 0, Memory.Reporter(1), Ct);
        _injector.FailBefore("StartVcpu", StatusCode.Unavailable);
        _injector.FailBefore("SetMemoryRegion", StatusCode.Unavailable);
        _injector.FailBefore("ResolveFault", StatusCode.Unavailable);
        var regionBefore = _injector.Attempts("SetMemoryRegion");

        var start = await Assert.ThrowsAsync<MemSvcException>(() => _client.Vcpus.StartAsync(vm.Name, 0, Ct));
        var region = await Assert.ThrowsAsync<MemSvcException>(() => _client.Memory.SetMemoryRegionAsync(
            new SetMemoryRegionRequest { Parent = vm.Name, Slot = 9, Gpa = 1UL << 32, Size = 4096, SharedBacking = SharedBacking.Anonymous }, Ct));
        var resolve = await Assert.ThrowsAsync<MemSvcException>(() => _client.Events.ResolveFaultAsync(vm.Name, 1, FaultAction.Convert, Ct));

        Assert.All([start, region, resolve], e => Assert.Equal(StatusCode.Unavailable, e.StatusCode));
        Assert.Equal(1, _injector.Attempts("StartVcpu"));
        Assert.Equal(regionBefore + 1, _injector.Attempts("SetMemoryRegion"));
        Assert.Equal(1, _injector.Attempts("ResolveFault"));
    }

    [Fact]
    public async Task Every_call_attempt_carries_the_default_deadline()
    {
        var before = DateTime.UtcNow;
        await _client.Host.GetInfoAsync(Ct);
        await _client.Vms.ListAsync(Ct).ToListAsync(Ct);

        Assert.Equal(2, _injector.Deadlines.Count);
        Assert.All(_injector.Deadlines, d =>
        {
            Assert.NotNull(d);
            Assert.InRange(d.Value, before.AddSeconds(19), DateTime.UtcNow.AddSeconds(21));
        });
    }
}
