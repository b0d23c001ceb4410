using MemSvc.Core.Errors;
using MemSvc.Core.Options;
using MemSvc.Core.Tests.Support;
using MemSvc.Hypervisor;
using static MemSvc.Core.Tests.Support.Core;

namespace MemSvc.Core.Tests.Memory;

/// <summary>
/// Guest memory is admitted against the host as well as the owner (probe D6): a cap over every owner of
/// ratio × host memory − reserve, and a count quota on guest_memfds. A refusal changes nothing; deletes give back.
/// </summary>
public class HostMemoryCapTests
{
    [Fact]
    public async Task Creations_past_ratio_times_host_memory_minus_the_reserve_fail_HOST_MEMORY_EXHAUSTED_over_all_owners()
    {
        // 0.5 × 64 MiB − 8 MiB = 24 MiB for every owner together, far below the per-owner quota.
        await using var manager = Manager(new CoreOptions
        {
            HostMemory = new HostMemoryOptions { OvercommitRatio = 0.5, ReservedBytes = 8 * M, Source = new FixedHostMemory(64 * M) },
        });
        manager.Vms.CreateVm(Alice, new() { VmId = "a" });
        manager.Vms.CreateVm(Bob, new() { VmId = "b" });
        manager.GuestMemfds.CreateGuestMemfd(Alice, "a", 16 * M, GuestMemfdFlags.None);
        manager.MemoryRegions.SetMemoryRegion(Bob, "b", new() { Slot = 0, Gpa = 0, Size = 8 * M });

        var memfd = Assert.Throws<CoreException>(() => manager.GuestMemfds.CreateGuestMemfd(Bob, "b", K4, GuestMemfdFlags.None));
        var region = Assert.Throws<CoreException>(() => manager.MemoryRegions.SetMemoryRegion(Alice, "a", new() { Slot = 1, Gpa = 0, Size = K4 }));

        Assert.Equal(
            (ErrorKind.ResourceExhausted, ErrorReasons.HostMemoryExhausted, "25165824", "25169920", "25165824"),
            (memfd.Kind, memfd.Reason, memfd.Metadata["limit"], memfd.Metadata["requested"], memfd.Metadata["in_use"]));
        Assert.Equal((ErrorKind.ResourceExhausted, ErrorReasons.HostMemoryExhausted), (region.Kind, region.Reason));
        Assert.Empty(manager.GuestMemfds.ListGuestMemfds(Bob, "b"));
        Assert.Empty(manager.MemoryRegions.ListMemoryRegions(Alice, "a"));

        // Deleting Alice's VM gives its 16 MiB back to the host, for any owner.
        manager.Vms.DeleteVm(Alice, "a");
        Assert.Equal(16 * M, manager.GuestMemfds.CreateGuestMemfd(Bob, "b", 16 * M, GuestMemfdFlags.None).Size);
    }

    [Fact]
    public async Task An_owners_open_guest_memfds_are_counted_and_closing_or_deleting_gives_them_back()
    {
        await using var manager = Manager(new CoreOptions { Quotas = new QuotaOptions { MaxGuestMemfdsPerOwner = 2 } });
        manager.Vms.CreateVm(Alice, new() { VmId = "a1" });
        manager.Vms.CreateVm(Alice, new() { VmId = "a2" });
        manager.Vms.CreateVm(Bob, new() { VmId = "b" });
        manager.GuestMemfds.CreateGuestMemfd(Alice, "a1", K4, GuestMemfdFlags.None);
        manager.GuestMemfds.CreateGuestMemfd(Alice, "a2", K4, GuestMemfdFlags.None);

        var third = Assert.Throws<CoreException>(() => manager.GuestMemfds.CreateGuestMemfd(Alice, "a2", K4, GuestMemfdFlags.None));
        manager.GuestMemfds.CreateGuestMemfd(Bob, "b", K4, GuestMemfdFlags.None);
        var a2After = manager.GuestMemfds.ListGuestMemfds(Alice, "a2").Select(m => m.Id).ToList();
        manager.GuestMemfds.DeleteGuestMemfd(Alice, "a2", 1);
        manager.GuestMemfds.CreateGuestMemfd(Alice, "a2", K4, GuestMemfdFlags.None);
        manager.Vms.DeleteVm(Alice, "a1");
        manager.GuestMemfds.CreateGuestMemfd(Alice, "a2", K4, GuestMemfdFlags.None);

        Assert.Equal(
            (ErrorKind.ResourceExhausted, ErrorReasons.QuotaExceeded, "max_guest_memfds_per_owner", "2", "3"),
            (third.Kind, third.Reason, third.Metadata["quota"], third.Metadata["limit"], third.Metadata["requested"]));
        Assert.Equal([1UL], a2After);
        Assert.Equal([2UL, 3UL], manager.GuestMemfds.ListGuestMemfds(Alice, "a2").Select(m => m.Id));
    }

    [Fact]
    public async Task Concurrent_creations_admit_exactly_what_fits_under_the_cap()
    {
        // A cap of 10 pages (no reserve): 40 one-page creations racing over 4 VMs of 2 owners admit exactly 10.
        await using var manager = Manager(new CoreOptions
        {
            HostMemory = new HostMemoryOptions { ReservedBytes = 0, Source = new FixedHostMemory(10 * K4) },
        });
        string[] vms = ["v0", "v1", "v2", "v3"];
        foreach (var (vm, i) in vms.Select((v, i) => (v, i)))
        {
            manager.Vms.CreateVm(i % 2 == 0 ? Alice : Bob, new() { VmId = vm });
        }

        var results = await Task.WhenAll(Enumerable.Range(0, 40).Select(i => Task.Run(() =>
        {
            try
            {
                manager.GuestMemfds.CreateGuestMemfd(i % 2 == 0 ? Alice : Bob, vms[i % 4], K4, GuestMemfdFlags.None);
                return "ok";
            }
            catch (CoreException e)
            {
                return e.Reason;
            }
        })));

        var open = vms.Sum(v => manager.GuestMemfds.ListGuestMemfds(v is "v0" or "v2" ? Alice : Bob, v).Count);
        Assert.Equal((10, 30, 10), (results.Count(r => r == "ok"), results.Count(r => r == ErrorReasons.HostMemoryExhausted), open));
    }
}
