using MemSvc.Core.Errors;
using MemSvc.Core.Events;
using MemSvc.Core.Faults;
using MemSvc.Core.Identity;
using MemSvc.Core.Memory;
using MemSvc.Core.Tests.Support;
using MemSvc.Core.Vms;
using MemSvc.Hypervisor;
using static MemSvc.Core.Tests.Support.Core;

namespace MemSvc.Core.Tests.Vms;

/// <summary>Every operation refuses bad input with the documented kind, reason and field, and changes nothing.</summary>
public class BadInputTests
{
    private const ulong Gpa = 0x1_0000_0000;

    private static readonly Dictionary<string, (ErrorKind Kind, string Reason, string? Field, Action<VmManager> Call)> Cases = new()
    {
        ["vm id with capitals"] = (ErrorKind.InvalidArgument, ErrorReasons.InvalidVmId, "vm_id", m => m.Vms.CreateVm(Alice, new() { VmId = "Bad" })),
        ["vm id ending in a dash"] = (ErrorKind.InvalidArgument, ErrorReasons.InvalidVmId, "vm_id", m => m.Vms.CreateVm(Alice, new() { VmId = "a-" })),
        ["vm id of 64 chars"] = (ErrorKind.InvalidArgument, ErrorReasons.InvalidVmId, "vm_id", m => m.Vms.CreateVm(Alice, new() { VmId = new string('a', 64) })),
        ["vm id taken"] = (ErrorKind.AlreadyExists, ErrorReasons.VmAlreadyExists, "vm_id", m => m.Vms.CreateVm(Alice, new() { VmId = "vm" })),
        ["absent backend"] = (ErrorKind.FailedPrecondition, ErrorReasons.BackendUnavailable, "backend", m => m.Vms.CreateVm(Alice, new() { VmId = "x", Backend = "kvm" })),
        ["vm type the backend lacks"] = (ErrorKind.FailedPrecondition, ErrorReasons.VmTypeUnsupported, "vm_type", m => m.Vms.CreateVm(Alice, new() { VmId = "x", VmType = VmType.Sev })),
        ["zero vcpus"] = (ErrorKind.InvalidArgument, ErrorReasons.InvalidVcpuCount, "vcpu_count", m => m.Vms.CreateVm(Alice, new() { VmId = "x", VcpuCount = 0 })),
        ["more vcpus than the backend"] = (ErrorKind.InvalidArgument, ErrorReasons.InvalidVcpuCount, "vcpu_count", m => m.Vms.CreateVm(Alice, new() { VmId = "x", VcpuCount = 1025 })),
        ["unknown fault policy"] = (ErrorKind.InvalidArgument, ErrorReasons.InvalidFaultPolicy, "fault_policy", m => m.Vms.CreateVm(Alice, new() { VmId = "x", FaultPolicy = (FaultPolicy)9 })),
        ["negative timeout"] = (ErrorKind.InvalidArgument, ErrorReasons.InvalidResolutionTimeout, "resolution_timeout", m => m.Vms.CreateVm(Alice, new() { VmId = "x", ResolutionTimeout = TimeSpan.FromSeconds(-1) })),
        ["timeout over the maximum"] = (ErrorKind.InvalidArgument, ErrorReasons.InvalidResolutionTimeout, "resolution_timeout", m => m.Vms.CreateVm(Alice, new() { VmId = "x", ResolutionTimeout = TimeSpan.FromHours(2) })),
        ["unknown fallback"] = (ErrorKind.InvalidArgument, ErrorReasons.InvalidFallbackAction, "timeout_fallback", m => m.Vms.CreateVm(Alice, new() { VmId = "x", TimeoutFallback = (FaultAction)7 })),
        ["caller without identity"] = (ErrorKind.PermissionDenied, ErrorReasons.InvalidCaller, null, m => m.Vms.CreateVm(new CallerIdentity(" "), new() { VmId = "x" })),
        ["negative page size"] = (ErrorKind.InvalidArgument, ErrorReasons.InvalidPageSize, "page_size", m => m.Vms.ListVms(Alice, -1)),
        ["forged page token"] = (ErrorKind.InvalidArgument, ErrorReasons.InvalidPageToken, "page_token", m => m.Vms.ListVms(Alice, 10, "not-a-token")),
        ["unknown vm"] = (ErrorKind.NotFound, ErrorReasons.VmNotFound, null, m => m.Vms.DeleteVm(Alice, "nope")),
        ["guest_memfd of size 0"] = (ErrorKind.InvalidArgument, ErrorReasons.InvalidSize, "size", m => m.GuestMemfds.CreateGuestMemfd(Alice, "vm", 0, GuestMemfdFlags.None)),
        ["guest_memfd of 4095 bytes"] = (ErrorKind.InvalidArgument, ErrorReasons.InvalidSize, "size", m => m.GuestMemfds.CreateGuestMemfd(Alice, "vm", 4095, GuestMemfdFlags.None)),
        ["unknown guest_memfd"] = (ErrorKind.NotFound, ErrorReasons.GuestMemfdNotFound, "guest_memfd_id", m => m.GuestMemfds.DeleteGuestMemfd(Alice, "vm", 9)),
        ["allocate at an unaligned offset"] = (ErrorKind.InvalidArgument, ErrorReasons.InvalidOffset, "offset", m => m.GuestMemfds.AllocateGuestMemfd(Alice, "vm", 1, 1, K4)),
        ["discard 0 bytes"] = (ErrorKind.InvalidArgument, ErrorReasons.InvalidSize, "size", m => m.GuestMemfds.DiscardGuestMemfd(Alice, "vm", 1, 0, 0)),
        ["region at an unaligned gpa"] = (ErrorKind.InvalidArgument, ErrorReasons.InvalidAddress, "gpa", m => m.MemoryRegions.SetMemoryRegion(Alice, "vm", new() { Slot = 3, Gpa = 0x1001, Size = K4 })),
        ["region of size 0"] = (ErrorKind.InvalidArgument, ErrorReasons.InvalidSize, "size", m => m.MemoryRegions.SetMemoryRegion(Alice, "vm", new() { Slot = 3, Gpa = 0, Size = 0 })),
        ["region past 2^64"] = (ErrorKind.InvalidArgument, ErrorReasons.RangeOverflow, "size", m => m.MemoryRegions.SetMemoryRegion(Alice, "vm", new() { Slot = 3, Gpa = ulong.MaxValue - 4095, Size = 2 * K4 })),
        ["GUEST_MEMFD flag without a file"] = (ErrorKind.InvalidArgument, ErrorReasons.GuestMemfdRequired, "guest_memfd_id", m => m.MemoryRegions.SetMemoryRegion(Alice, "vm", new() { Slot = 3, Gpa = 0, Size = K4, Flags = MemoryRegionFlags.GuestMemfd })),
        ["a file without the flag"] = (ErrorKind.InvalidArgument, ErrorReasons.GuestMemfdFlagMismatch, "flags", m => m.MemoryRegions.SetMemoryRegion(Alice, "vm", new() { Slot = 3, Gpa = 0, Size = K4, GuestMemfdId = 1 })),
        ["gmem-only backing without a file"] = (ErrorKind.InvalidArgument, ErrorReasons.InvalidSharedBacking, "shared_backing", m => m.MemoryRegions.SetMemoryRegion(Alice, "vm", new() { Slot = 3, Gpa = 0, Size = K4, SharedBacking = SharedBackingKind.GuestMemfd })),
        ["unaligned guest_memfd offset"] = (ErrorKind.InvalidArgument, ErrorReasons.InvalidOffset, "guest_memfd_offset", m => m.MemoryRegions.SetMemoryRegion(Alice, "vm", new() { Slot = 3, Gpa = 0, Size = K4, Flags = MemoryRegionFlags.GuestMemfd, GuestMemfdId = 1, GuestMemfdOffset = 12 })),
        ["region bound to an unknown file"] = (ErrorKind.NotFound, ErrorReasons.GuestMemfdNotFound, "guest_memfd_id", m => m.MemoryRegions.SetMemoryRegion(Alice, "vm", new() { Slot = 3, Gpa = 0, Size = K4, Flags = MemoryRegionFlags.GuestMemfd, GuestMemfdId = 7 })),
        ["a slot in use"] = (ErrorKind.AlreadyExists, ErrorReasons.MemoryRegionExists, "slot", m => m.MemoryRegions.SetMemoryRegion(Alice, "vm", new() { Slot = 0, Gpa = 0, Size = K4 })),
        ["deleting an unknown slot"] = (ErrorKind.NotFound, ErrorReasons.MemoryRegionNotFound, "slot", m => m.MemoryRegions.DeleteMemoryRegion(Alice, "vm", 8)),
        ["revoking an anonymous slot"] = (ErrorKind.FailedPrecondition, ErrorReasons.RegionNotGmemOnly, "slot", m => m.MemoryRegions.RevokeRegionBacking(Alice, "vm", 0)),
        ["attributes at an unaligned gpa"] = (ErrorKind.InvalidArgument, ErrorReasons.InvalidAddress, "gpa", m => m.Memory.SetMemoryAttributes(Alice, "vm", Gpa + 1, K4, MemoryAttributes.Private)),
        ["attributes over 0 bytes"] = (ErrorKind.InvalidArgument, ErrorReasons.InvalidSize, "size", m => m.Memory.GetMemoryAttributes(Alice, "vm", Gpa, 0)),
        ["convert an unaligned size"] = (ErrorKind.InvalidArgument, ErrorReasons.InvalidSize, "size", m => m.Memory.ConvertMemory(Alice, "vm", Gpa, 100, true)),
        ["read 0 bytes"] = (ErrorKind.InvalidArgument, ErrorReasons.InvalidSize, "size", m => m.Memory.ReadGuestMemory(Alice, "vm", Gpa, 0)),
        ["read over the limit"] = (ErrorKind.InvalidArgument, ErrorReasons.TransferTooLarge, "size", m => m.Memory.ReadGuestMemory(Alice, "vm", Gpa, (4 * M) + 1)),
        ["write past 2^64"] = (ErrorKind.InvalidArgument, ErrorReasons.RangeOverflow, "data", m => m.Memory.WriteGuestMemory(Alice, "vm", ulong.MaxValue - 1, new byte[4])),
        ["vcpu index out of range"] = (ErrorKind.NotFound, ErrorReasons.VcpuNotFound, "index", m => m.Vcpus.GetVcpu(Alice, "vm", 2)),
        ["negative vcpu index"] = (ErrorKind.NotFound, ErrorReasons.VcpuNotFound, "index", m => m.Vcpus.StartVcpu(Alice, "vm", -1)),
        ["start without a program"] = (ErrorKind.FailedPrecondition, ErrorReasons.NoProgramLoaded, "index", m => m.Vcpus.StartVcpu(Alice, "vm", 0)),
        ["pause an idle vcpu"] = (ErrorKind.FailedPrecondition, ErrorReasons.VcpuNotRunning, "index", m => m.Vcpus.PauseVcpu(Alice, "vm", 1)),
        ["an empty program"] = (ErrorKind.InvalidArgument, ErrorReasons.InvalidGuestProgram, "program", m => m.Vcpus.LoadGuestProgram(Alice, "vm", 0, new GuestProgram([]))),
        ["a program with an overflowing range"] = (ErrorKind.InvalidArgument, ErrorReasons.InvalidGuestProgram, "program", m => m.Vcpus.LoadGuestProgram(Alice, "vm", 0, Program(Write(ulong.MaxValue, 2, 1, AccessIntent.Shared)))),
        ["a filter with an unspecified kind"] = (ErrorKind.InvalidArgument, ErrorReasons.InvalidEventFilter, "filter.kinds", m => m.Events.WatchEvents(Alice, "vm", 0, new EventFilter(new HashSet<EventKind> { EventKind.Unspecified }, new HashSet<int>()), cancellationToken: Ct)),
        ["a filter with a negative vcpu"] = (ErrorKind.InvalidArgument, ErrorReasons.InvalidEventFilter, "filter.vcpus", m => m.Events.WatchEvents(Alice, "vm", 0, new EventFilter(new HashSet<EventKind>(), new HashSet<int> { -1 }), cancellationToken: Ct)),
        ["watching another owner's vm"] = (ErrorKind.NotFound, ErrorReasons.VmNotFound, null, m => m.Events.WatchEvents(Bob, "vm", 0, cancellationToken: Ct)),
        ["resolving a fault never raised"] = (ErrorKind.NotFound, ErrorReasons.FaultNotFound, "fault_id", m => m.Events.ResolveFault(Alice, "vm", 1, FaultAction.Convert)),
    };

    public static TheoryData<string> CaseNames => [.. Cases.Keys];

    [Theory]
    [MemberData(nameof(CaseNames))]
    public async Task Is_refused_with_kind_reason_and_field_and_changes_nothing(string name)
    {
        await using var manager = Manager();
        Populate(manager);
        var before = StateSnapshot.Of(manager);
        var (kind, reason, field, call) = Cases[name];

        var error = Assert.Throws<CoreException>(() => call(manager));

        Assert.Equal((kind, reason, field), (error.Kind, error.Reason, error.Field));
        Assert.Equal(before, StateSnapshot.Of(manager));
    }

    [Theory]
    [InlineData("guest_memfd flags the vm type lacks")]
    [InlineData("overlapping memslots")]
    [InlineData("an attribute bit the vm lacks")]
    [InlineData("reading where no memslot is")]
    public async Task Backend_refusals_pass_through_with_their_errno_and_change_nothing(string name)
    {
        await using var manager = Manager();
        Populate(manager);
        var before = StateSnapshot.Of(manager);
        Action call = name switch
        {
            "guest_memfd flags the vm type lacks" => () => manager.GuestMemfds.CreateGuestMemfd(Alice, "vm", M, GuestMemfdFlags.InitShared | GuestMemfdFlags.Mmap),
            "overlapping memslots" => () => manager.MemoryRegions.SetMemoryRegion(Alice, "vm", new() { Slot = 4, Gpa = Gpa + M, Size = M }),
            "an attribute bit the vm lacks" => () => manager.Memory.SetMemoryAttributes(Alice, "vm", Gpa, K4, (MemoryAttributes)1),
            _ => () => manager.Memory.ReadGuestMemory(Alice, "vm", 0x10, 16),
        };
        var expected = name switch
        {
            "overlapping memslots" => Errno.EEXIST,
            "reading where no memslot is" => Errno.EFAULT,
            _ => Errno.EINVAL,
        };

        var error = Assert.Throws<HypervisorException>(call);

        Assert.Equal(expected, error.Errno);
        Assert.Equal(before, StateSnapshot.Of(manager));
    }

    // A sw-protected VM "vm" of Alice with 2 vCPUs, guest_memfd 1 bound as slot 0 (anonymous shared side).
    private static void Populate(VmManager manager)
    {
        manager.Vms.CreateVm(Alice, new() { VmId = "vm", VmType = VmType.SwProtected, VcpuCount = 2 });
        var memfd = manager.GuestMemfds.CreateGuestMemfd(Alice, "vm", 4 * M, GuestMemfdFlags.None);
        manager.MemoryRegions.SetMemoryRegion(Alice, "vm", new() { Slot = 0, Gpa = Gpa, Size = 4 * M, Flags = MemoryRegionFlags.GuestMemfd, GuestMemfdId = memfd.Id });
        manager.Memory.SetMemoryAttributes(Alice, "vm", Gpa, M, MemoryAttributes.Private);
    }
}
