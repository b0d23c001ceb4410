using MemSvc.Core.Errors;
using MemSvc.Core.Events;
using MemSvc.Core.Identity;
using MemSvc.Core.Vms;
using MemSvc.Hypervisor;
using static MemSvc.Core.Tests.Support.Core;

namespace MemSvc.Core.Tests.Vms;

/// <summary>VM names are per owner (probe D7): another owner's name neither blocks, nor reveals, nor mixes with one's own.</summary>
public class PerOwnerNameTests
{
    private const ulong Gpa = 0x1_0000_0000;

    [Fact]
    public async Task Two_owners_each_create_a_VM_of_one_name_and_each_acts_only_on_its_own()
    {
        await using var manager = Manager();
        var bobs = manager.Vms.CreateVm(Bob, new() { VmId = "prod-db-02", VcpuCount = 2 });
        var alices = manager.Vms.CreateVm(Alice, new() { VmId = "prod-db-02" });
        manager.GuestMemfds.CreateGuestMemfd(Alice, "prod-db-02", 4 * K4, GuestMemfdFlags.None);

        Assert.NotEqual(bobs.Uid, alices.Uid);
        Assert.Equal(("alice", alices.Uid, 1), (manager.Vms.GetVm(Alice, "prod-db-02").Owner, manager.Vms.GetVm(Alice, "prod-db-02").Uid, manager.Vms.GetVm(Alice, "prod-db-02").VcpuCount));
        Assert.Equal(("bob", bobs.Uid, 2), (manager.Vms.GetVm(Bob, "prod-db-02").Owner, manager.Vms.GetVm(Bob, "prod-db-02").Uid, manager.Vms.GetVm(Bob, "prod-db-02").VcpuCount));
        Assert.Empty(manager.GuestMemfds.ListGuestMemfds(Bob, "prod-db-02"));
        Assert.Equal([alices.Uid], manager.Vms.ListVms(Alice).Vms.Select(v => v.Uid));

        var again = Assert.Throws<CoreException>(() => manager.Vms.CreateVm(Alice, new() { VmId = "prod-db-02" }));
        Assert.Equal((ErrorKind.AlreadyExists, ErrorReasons.VmAlreadyExists), (again.Kind, again.Reason));

        manager.Vms.DeleteVm(Bob, "prod-db-02");
        Assert.Equal(alices.Uid, manager.Vms.GetVm(Alice, "prod-db-02").Uid);
        Assert.Single(manager.GuestMemfds.ListGuestMemfds(Alice, "prod-db-02"));
        var gone = Assert.Throws<CoreException>(() => manager.Vms.GetVm(Bob, "prod-db-02"));
        Assert.Equal(ErrorReasons.VmNotFound, gone.Reason);
    }

    [Fact]
    public async Task An_admin_reaches_a_name_only_one_owner_has_lists_every_owners_VM_of_it_and_is_told_when_it_is_ambiguous()
    {
        await using var manager = Manager();
        var alices = manager.Vms.CreateVm(Alice, new() { VmId = "shared-name" });
        var bobs = manager.Vms.CreateVm(Bob, new() { VmId = "shared-name" });
        manager.Vms.CreateVm(Bob, new() { VmId = "z-bob-only" });

        var ambiguous = Assert.Throws<CoreException>(() => manager.Vms.GetVm(Admin, "shared-name"));
        Assert.Equal((ErrorKind.FailedPrecondition, ErrorReasons.VmNameAmbiguous, "shared-name"), (ambiguous.Kind, ambiguous.Reason, ambiguous.Metadata["vm_id"]));
        Assert.Equal("bob", manager.Vms.GetVm(Admin, "z-bob-only").Owner);

        // Pages of one: the token must tell apart two VMs of one name, or a page would repeat or skip one.
        var seen = new List<(string, string)>();
        var token = string.Empty;
        do
        {
            var page = manager.Vms.ListVms(Admin, 1, token);
            seen.AddRange(page.Vms.Select(v => (v.VmId, v.Uid)));
            token = page.NextPageToken;
        }
        while (token.Length > 0);

        Assert.Equal([("shared-name", alices.Uid), ("shared-name", bobs.Uid), ("z-bob-only", manager.Vms.GetVm(Bob, "z-bob-only").Uid)], seen);

        manager.Vms.DeleteVm(Alice, "shared-name");
        Assert.Equal(bobs.Uid, manager.Vms.GetVm(Admin, "shared-name").Uid);
    }

    [Fact]
    public async Task Watches_of_every_VM_keep_two_owners_VMs_of_one_name_apart()
    {
        await using var manager = Manager();
        var alices = NewVm(manager, Alice, "same");
        var bobs = NewVm(manager, Bob, "same");
        using var bound = CancellationTokenSource.CreateLinkedTokenSource(Ct);

        // A bound, not a timing assertion: a watch that never delivers the second VM's events must end the test.
        bound.CancelAfter(TimeSpan.FromSeconds(30));
        await using var admin = manager.Events.WatchEvents(Admin, null, 1, cancellationToken: bound.Token).GetAsyncEnumerator(bound.Token);
        await using var alice = manager.Events.WatchEvents(Alice, null, 1, cancellationToken: bound.Token).GetAsyncEnumerator(bound.Token);
        var adminFirst = admin.MoveNextAsync();
        var aliceFirst = alice.MoveNextAsync();
        manager.Memory.ConvertMemory(Alice, "same", Gpa, K4, toPrivate: true);
        manager.Memory.ConvertMemory(Bob, "same", Gpa + K4, K4, toPrivate: true);
        manager.Memory.ConvertMemory(Bob, "same", Gpa + (2 * K4), K4, toPrivate: true);

        var adminSeen = new List<(string, string, ulong, ulong)>();
        var more = await adminFirst;
        while (more)
        {
            adminSeen.Add((admin.Current.VmId, admin.Current.VmUid, admin.Current.Sequence, ((EventPayload.ConversionApplied)admin.Current.Payload).Gpa));
            if (adminSeen.Count == 3)
            {
                break;
            }

            more = await admin.MoveNextAsync();
        }

        Assert.True(await aliceFirst);
        var aliceEvent = (alice.Current.VmUid, alice.Current.Sequence, ((EventPayload.ConversionApplied)alice.Current.Payload).Gpa);

        Assert.Equal([("same", alices, 1UL, Gpa)], adminSeen.Where(e => e.Item2 == alices));
        Assert.Equal([("same", bobs, 1UL, Gpa + K4), ("same", bobs, 2UL, Gpa + (2 * K4))], adminSeen.Where(e => e.Item2 == bobs));
        Assert.Equal((alices, 1UL, Gpa), aliceEvent);
    }

    [Fact]
    public async Task An_admin_lists_pending_faults_and_resumes_every_owners_VM_of_one_name_from_its_own_position()
    {
        await using var manager = Manager();
        var alices = NewVm(manager, Alice, "same");
        var bobs = NewVm(manager, Bob, "same");
        manager.Memory.ConvertMemory(Alice, "same", Gpa, K4, toPrivate: true);
        manager.Memory.ConvertMemory(Alice, "same", Gpa + K4, K4, toPrivate: true);
        manager.Memory.ConvertMemory(Bob, "same", Gpa, K4, toPrivate: true);
        var listed = manager.Events.ListPendingFaults(Admin, null).Positions;

        // Resuming from the listing: Alice's VM at 3 and Bob's at 2, so only the next event of each follows.
        using var bound = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        bound.CancelAfter(TimeSpan.FromSeconds(30));
        await using var watch = manager.Events.Watch(Admin, new WatchRequest { Positions = listed }, bound.Token).GetAsyncEnumerator(bound.Token);
        var first = watch.MoveNextAsync();
        manager.Memory.ConvertMemory(Bob, "same", Gpa + K4, K4, toPrivate: true);
        manager.Memory.ConvertMemory(Alice, "same", Gpa + (2 * K4), K4, toPrivate: true);
        var seen = new List<(string, ulong)>();
        var more = await first;
        while (more)
        {
            seen.Add((watch.Current.Event!.VmUid, watch.Current.Event.Sequence));
            if (seen.Count == 2)
            {
                break;
            }

            more = await watch.MoveNextAsync();
        }

        // Uids are random: compare in one order.
        (string, ulong)[] expected = [.. new[] { (alices, 3UL), (bobs, 2UL) }.Order()];
        Assert.Equal(expected, listed.Select(p => (p.VmUid, p.NextSequence)).Order());
        Assert.Equal(expected, seen.Order());
    }

    private static string NewVm(VmManager manager, CallerIdentity owner, string vmId)
    {
        var uid = manager.Vms.CreateVm(owner, new() { VmId = vmId, VmType = VmType.SwProtected }).Uid;
        var memfd = manager.GuestMemfds.CreateGuestMemfd(owner, vmId, MemSvc.Core.Tests.Support.Core.M, GuestMemfdFlags.None);
        manager.MemoryRegions.SetMemoryRegion(owner, vmId, new() { Slot = 0, Gpa = Gpa, Size = MemSvc.Core.Tests.Support.Core.M, Flags = MemoryRegionFlags.GuestMemfd, GuestMemfdId = memfd.Id });
        return uid;
    }
}
