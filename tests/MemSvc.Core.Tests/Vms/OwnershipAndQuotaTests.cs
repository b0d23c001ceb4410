using MemSvc.Core.Errors;
using MemSvc.Core.Options;
using MemSvc.Hypervisor;
using static MemSvc.Core.Tests.Support.Core;

namespace MemSvc.Core.Tests.Vms;

public class OwnershipAndQuotaTests
{
    [Fact]
    public async Task Another_owner_sees_and_touches_nothing_and_an_admin_sees_everything()
    {
        await using var manager = Manager();
        manager.Vms.CreateVm(Alice, new() { VmId = "alices" });
        manager.GuestMemfds.CreateGuestMemfd(Alice, "alices", 4096, GuestMemfdFlags.None);

        Assert.Empty(manager.Vms.ListVms(Bob).Vms);
        Action[] bobs =
        [
            () => manager.Vms.GetVm(Bob, "alices"),
            () => manager.Vms.DeleteVm(Bob, "alices"),
            () => manager.GuestMemfds.ListGuestMemfds(Bob, "alices"),
            () => manager.GuestMemfds.DeleteGuestMemfd(Bob, "alices", 1),
            () => manager.Memory.ReadGuestMemory(Bob, "alices", 0, 1),
            () => manager.Vcpus.GetVcpu(Bob, "alices", 0),
        ];
        foreach (var call in bobs)
        {
            var error = Assert.Throws<CoreException>(call);
            Assert.Equal((ErrorKind.NotFound, ErrorReasons.VmNotFound, "alices"), (error.Kind, error.Reason, error.Metadata["vm_id"]));
        }

        // Unknown and foreign VMs look the same: the error does not tell which.
        var unknown = Assert.Throws<CoreException>(() => manager.Vms.GetVm(Bob, "nobodys"));
        Assert.Equal(ErrorReasons.VmNotFound, unknown.Reason);

        Assert.Equal("alice", manager.Vms.GetVm(Admin, "alices").Owner);
        Assert.Equal(["alices"], manager.Vms.ListVms(Admin).Vms.Select(v => v.VmId));
        Assert.Single(manager.GuestMemfds.ListGuestMemfds(Alice, "alices"));
        manager.Vms.DeleteVm(Admin, "alices");
        Assert.Empty(manager.Vms.ListVms(Alice).Vms);
    }

    [Fact]
    public async Task Quotas_refuse_with_RESOURCE_EXHAUSTED_naming_the_quota()
    {
        await using var manager = Manager(new CoreOptions
        {
            Quotas = new QuotaOptions { MaxVmsPerOwner = 2, MaxVcpusPerVm = 4, MaxGuestMemoryBytesPerOwner = 8 * M, MaxWatchersPerOwner = 1 },
        });
        manager.Vms.CreateVm(Alice, new() { VmId = "one" });
        manager.Vms.CreateVm(Alice, new() { VmId = "two" });
        AssertQuota("max_vms_per_owner", "2", () => manager.Vms.CreateVm(Alice, new() { VmId = "three" }));
        manager.Vms.CreateVm(Bob, new() { VmId = "bobs" });
        AssertQuota("max_vcpus_per_vm", "4", () => manager.Vms.CreateVm(Bob, new() { VmId = "wide", VcpuCount = 5 }));

        manager.GuestMemfds.CreateGuestMemfd(Alice, "one", 4 * M, GuestMemfdFlags.None);
        manager.MemoryRegions.SetMemoryRegion(Alice, "two", new() { Slot = 0, Gpa = 0, Size = 2 * M });
        AssertQuota("max_guest_memory_bytes_per_owner", (8 * M).ToString(System.Globalization.CultureInfo.InvariantCulture), () => manager.GuestMemfds.CreateGuestMemfd(Alice, "two", 4 * M, GuestMemfdFlags.None));
        manager.GuestMemfds.CreateGuestMemfd(Alice, "two", 2 * M, GuestMemfdFlags.None);
        manager.GuestMemfds.DeleteGuestMemfd(Alice, "one", 1);
        manager.GuestMemfds.CreateGuestMemfd(Alice, "one", 4 * M, GuestMemfdFlags.None);

        await using var first = manager.Events.WatchEvents(Alice, "one", 0, cancellationToken: Ct).GetAsyncEnumerator(Ct);
        var pending = first.MoveNextAsync();
        Assert.Equal(1, manager.Events.ActiveWatchers("alice"));
        AssertQuota("max_watchers_per_owner", "1", () => manager.Events.WatchEvents(Alice, "two", 0, cancellationToken: Ct));
        manager.Vms.DeleteVm(Alice, "one");
        Assert.False(await pending);
        await first.DisposeAsync();
        Assert.Equal(0, manager.Events.ActiveWatchers("alice"));
        Assert.NotNull(manager.Events.WatchEvents(Alice, "two", 0, cancellationToken: Ct));
    }

    [Fact]
    public async Task ListVms_pages_in_id_order_with_opaque_tokens()
    {
        await using var manager = Manager();
        foreach (var id in new[] { "d", "b", "e", "a", "c" })
        {
            manager.Vms.CreateVm(Alice, new() { VmId = id });
        }

        manager.Vms.CreateVm(Bob, new() { VmId = "bb" });
        var seen = new List<string>();
        var token = string.Empty;
        var pages = 0;
        do
        {
            var page = manager.Vms.ListVms(Alice, 2, token);
            seen.AddRange(page.Vms.Select(v => v.VmId));
            token = page.NextPageToken;
            pages++;
        }
        while (token.Length > 0);

        Assert.Equal(["a", "b", "c", "d", "e"], seen);
        Assert.Equal(3, pages);
    }

    [Fact]
    public async Task Generated_ids_follow_the_rules_and_defaults_apply()
    {
        await using var manager = Manager();
        var vm = manager.Vms.CreateVm(Alice, new());

        Assert.Matches("^vm-[0-9a-f]{8}$", vm.VmId);
        Assert.Equal(("simulated", VmType.Default, 1, Faults.FaultPolicy.Auto, TimeSpan.FromSeconds(30), Faults.FaultAction.Fail, Core.Vms.VmState.Ready), (vm.Backend, vm.VmType, vm.VcpuCount, vm.FaultPolicy, vm.ResolutionTimeout, vm.TimeoutFallback, vm.State));
        var host = manager.GetHostInfo();
        Assert.Equal("simulated", host.DefaultBackend);
        Assert.Equal("simulated", Assert.Single(host.Backends).Capabilities.Backend);
    }

    private static void AssertQuota(string quota, string limit, Action call)
    {
        var error = Assert.Throws<CoreException>(call);
        Assert.Equal((ErrorKind.ResourceExhausted, ErrorReasons.QuotaExceeded, quota, limit), (error.Kind, error.Reason, error.Metadata["quota"], error.Metadata["limit"]));
    }
}
