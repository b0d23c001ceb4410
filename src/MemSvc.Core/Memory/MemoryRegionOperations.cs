using MemSvc.Core.Errors;
using MemSvc.Core.Identity;
using MemSvc.Core.Telemetry;
using MemSvc.Core.Vms;
using MemSvc.Hypervisor;

namespace MemSvc.Core.Memory;

/// <summary>GuestMemoryService, memslot part: set, delete, get, list, and RevokeRegionBacking.</summary>
public sealed class MemoryRegionOperations
{
    private readonly CoreContext _context;

    internal MemoryRegionOperations(CoreContext context)
    {
        _context = context;
    }

    /// <summary>
    /// KVM_SET_USER_MEMORY_REGION2 creating slot <see cref="SetMemoryRegionRequest.Slot"/>. An existing slot is
    /// refused (delete it first: guest_memfd slots are immutable in KVM anyway).
    /// </summary>
    public MemoryRegionInfo SetMemoryRegion(CallerIdentity caller, string vmId, SetMemoryRegionRequest request)
    {
        var vm = _context.Find(caller, vmId);
        ArgumentNullException.ThrowIfNull(request);
        var backing = Validate(request);
        var anonymous = backing == SharedBackingKind.Anonymous ? request.Size : 0;
        _context.Ledger.Reserve(vm.Owner, anonymous, 0);
        try
        {
            lock (vm.Memory.Sync)
            {
                vm.ThrowIfDeleted();
                if (vm.Memory.HasRegion(request.Slot))
                {
                    throw new CoreException(ErrorKind.AlreadyExists, ErrorReasons.MemoryRegionExists, $"memory region {request.Slot} exists; delete it first", "slot", CoreErrors.Meta("slot", CoreErrors.Dec(request.Slot)));
                }

                var memslotQuota = _context.Options.Quotas.MaxMemslotsPerVm;
                if (vm.Memory.RegionCount >= memslotQuota)
                {
                    throw CoreErrors.QuotaExceeded("max_memslots_per_vm", (ulong)memslotQuota, (ulong)vm.Memory.RegionCount + 1);
                }

                var memfd = request.GuestMemfdId != 0 ? vm.Memory.GetMemfd(request.GuestMemfdId) : null;
                var shared = backing == SharedBackingKind.GuestMemfd ? SharedBacking.GuestMemfdMapping : SharedBacking.Anonymous;
                using (CoreActivities.Start("memsvc.core.set_memory_region", vm.Id, request.Gpa, request.Size)?.SetTag("slot", request.Slot))
                {
                    vm.Vm.SetUserMemoryRegion(new MemoryRegion(request.Slot, request.Flags, request.Gpa, request.Size, shared, memfd?.File, request.GuestMemfdOffset));
                }

                var entry = new RegionEntry(request.Slot, request.Gpa, request.Size, request.Flags, request.GuestMemfdId, memfd?.File, request.GuestMemfdOffset, backing);
                vm.Memory.AddRegion(entry);
                return entry.ToInfo(vm.Id);
            }
        }
        catch
        {
            _context.Ledger.Release(vm.Owner, anonymous, 0);
            throw;
        }
    }

    /// <summary>Deletes the memslot (its guest_memfd range is unbound and can be bound again).</summary>
    public void DeleteMemoryRegion(CallerIdentity caller, string vmId, uint slot) =>
        _context.Find(caller, vmId).UnderMemoryLock(vm =>
        {
            var entry = vm.Memory.GetRegion(slot);
            using (CoreActivities.Start("memsvc.core.delete_memory_region", vm.Id, entry.Gpa, entry.Size)?.SetTag("slot", slot))
            {
                vm.Vm.SetUserMemoryRegion(MemoryRegion.Delete(slot));
            }

            vm.Memory.RemoveRegion(entry);
        });

    public MemoryRegionInfo GetMemoryRegion(CallerIdentity caller, string vmId, uint slot) =>
        _context.Find(caller, vmId).UnderMemoryLock(vm => vm.Memory.GetRegion(slot).ToInfo(vm.Id));

    /// <summary>The VM's memslots by slot id.</summary>
    public IReadOnlyList<MemoryRegionInfo> ListMemoryRegions(CallerIdentity caller, string vmId) =>
        _context.Find(caller, vmId).UnderMemoryLock(vm => (IReadOnlyList<MemoryRegionInfo>)[.. vm.Memory.Regions.Select(r => r.ToInfo(vm.Id))]);

    /// <summary>
    /// Deliberately breaks a gmem-only slot (shared backing GUEST_MEMFD): unmaps its shared side and closes its
    /// guest_memfd while the slot stays bound, so the guest's next access to it ends in a real
    /// KVM_EXIT_MEMORY_FAULT (flags 0) on the kvm backend. Recovery: delete the region and set it again with a
    /// new guest_memfd. Other slots bound to the same file lose it too. Calling it again changes nothing.
    /// </summary>
    public MemoryRegionInfo RevokeRegionBacking(CallerIdentity caller, string vmId, uint slot)
    {
        var vm = _context.Find(caller, vmId);
        lock (vm.Memory.Sync)
        {
            vm.ThrowIfDeleted();
            var entry = vm.Memory.GetRegion(slot);
            if (entry.SharedBacking != SharedBackingKind.GuestMemfd)
            {
                throw CoreException.FailedPrecondition(ErrorReasons.RegionNotGmemOnly, $"memory region {slot} is not gmem-only (shared backing GUEST_MEMFD); only those can be revoked", "slot");
            }

            if (!entry.BackingRevoked)
            {
                using (CoreActivities.Start("memsvc.core.revoke_region_backing", vm.Id, entry.Gpa, entry.Size)?.SetTag("slot", slot))
                {
                    vm.Vm.UnmapSharedBacking(slot);
                }

                entry.BackingRevoked = true;
                var open = vm.Memory.Memfds.FirstOrDefault(m => m.Id == entry.GuestMemfdId);
                if (open is not null)
                {
                    vm.Memory.RemoveMemfd(open);
                }
            }

            return entry.ToInfo(vm.Id);
        }
    }

    private static SharedBackingKind Validate(SetMemoryRegionRequest request)
    {
        RangeChecks.PageRange(request.Gpa, request.Size);
        var backing = request.SharedBacking == SharedBackingKind.Unspecified ? SharedBackingKind.Anonymous : request.SharedBacking;
        if (!Enum.IsDefined(backing))
        {
            throw CoreException.InvalidArgument(ErrorReasons.InvalidSharedBacking, "shared_backing", "shared_backing must be ANONYMOUS or GUEST_MEMFD");
        }

        var flagged = (request.Flags & MemoryRegionFlags.GuestMemfd) != 0;
        if (flagged && request.GuestMemfdId == 0)
        {
            throw CoreException.InvalidArgument(ErrorReasons.GuestMemfdRequired, "guest_memfd_id", "flag GUEST_MEMFD needs a guest_memfd");
        }

        if (!flagged && request.GuestMemfdId != 0)
        {
            throw CoreException.InvalidArgument(ErrorReasons.GuestMemfdFlagMismatch, "flags", "a region with a guest_memfd needs flag GUEST_MEMFD");
        }

        if (backing == SharedBackingKind.GuestMemfd && request.GuestMemfdId == 0)
        {
            throw CoreException.InvalidArgument(ErrorReasons.InvalidSharedBacking, "shared_backing", "shared backing GUEST_MEMFD needs a guest_memfd");
        }

        if (request.GuestMemfdOffset % RangeChecks.PageSize != 0)
        {
            throw CoreException.InvalidArgument(ErrorReasons.InvalidOffset, "guest_memfd_offset", $"guest_memfd_offset {CoreErrors.Hex(request.GuestMemfdOffset)} is not 4096-aligned");
        }

        if (request.GuestMemfdOffset + request.Size < request.GuestMemfdOffset)
        {
            throw CoreException.InvalidArgument(ErrorReasons.RangeOverflow, "guest_memfd_offset", "guest_memfd_offset + size overflows 2^64");
        }

        return backing;
    }
}
