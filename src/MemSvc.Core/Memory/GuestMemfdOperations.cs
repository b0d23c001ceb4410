using MemSvc.Core.Errors;
using MemSvc.Core.Identity;
using MemSvc.Core.Telemetry;
using MemSvc.Core.Vms;
using MemSvc.Hypervisor;

namespace MemSvc.Core.Memory;

/// <summary>GuestMemoryService, guest_memfd part: create, get, list, delete (close), allocate, discard.</summary>
public sealed class GuestMemfdOperations
{
    private readonly CoreContext _context;

    internal GuestMemfdOperations(CoreContext context)
    {
        _context = context;
    }

    /// <summary>KVM_CREATE_GUEST_MEMFD: a file of <paramref name="size"/> bytes; ids are 1, 2, ... per VM.</summary>
    public GuestMemfdInfo CreateGuestMemfd(CallerIdentity caller, string vmId, ulong size, GuestMemfdFlags flags)
    {
        var vm = _context.Find(caller, vmId);
        if (size == 0 || size % RangeChecks.PageSize != 0 || size > long.MaxValue)
        {
            throw CoreException.InvalidArgument(ErrorReasons.InvalidSize, "size", $"size {CoreErrors.Hex(size)} must be a non-zero multiple of 4096 below 2^63");
        }

        // Reserved before the backend call, so that concurrent creations cannot together pass a quota or the
        // host cap; given back if the creation then fails.
        _context.Ledger.Reserve(vm.Owner, size, 1);
        try
        {
            lock (vm.Memory.Sync)
            {
                vm.ThrowIfDeleted();
                IGuestMemfd file;
                using (CoreActivities.Start("memsvc.core.create_guest_memfd", vm.Id, 0, size))
                {
                    file = vm.Vm.CreateGuestMemfd(size, flags);
                }

                return vm.Memory.AddMemfd(file, _context.Options.TimeProvider.GetUtcNow()).ToInfo(vm.Id);
            }
        }
        catch
        {
            _context.Ledger.Release(vm.Owner, size, 1);
            throw;
        }
    }

    public GuestMemfdInfo GetGuestMemfd(CallerIdentity caller, string vmId, ulong id) =>
        _context.Find(caller, vmId).UnderMemoryLock(vm => vm.Memory.GetMemfd(id).ToInfo(vm.Id));

    /// <summary>The VM's open files, by id; closed (deleted) ones are gone.</summary>
    public IReadOnlyList<GuestMemfdInfo> ListGuestMemfds(CallerIdentity caller, string vmId) =>
        _context.Find(caller, vmId).UnderMemoryLock(vm => (IReadOnlyList<GuestMemfdInfo>)[.. vm.Memory.Memfds.Select(m => m.ToInfo(vm.Id))]);

    /// <summary>Closes the file. Memslots bound to it stay, as in KVM; private accesses through them then fault.</summary>
    public void DeleteGuestMemfd(CallerIdentity caller, string vmId, ulong id) =>
        _context.Find(caller, vmId).UnderMemoryLock(vm => vm.Memory.RemoveMemfd(vm.Memory.GetMemfd(id)));

    /// <summary>fallocate(KEEP_SIZE) over [offset, offset + size).</summary>
    public void AllocateGuestMemfd(CallerIdentity caller, string vmId, ulong id, ulong offset, ulong size) =>
        Fallocate(caller, vmId, id, offset, size, FallocateMode.KeepSize, "memsvc.core.allocate_guest_memfd");

    /// <summary>fallocate(PUNCH_HOLE | KEEP_SIZE) over [offset, offset + size): the pages read back as zero.</summary>
    public void DiscardGuestMemfd(CallerIdentity caller, string vmId, ulong id, ulong offset, ulong size) =>
        Fallocate(caller, vmId, id, offset, size, FallocateMode.PunchHole | FallocateMode.KeepSize, "memsvc.core.discard_guest_memfd");

    private void Fallocate(CallerIdentity caller, string vmId, ulong id, ulong offset, ulong size, FallocateMode mode, string span)
    {
        var vm = _context.Find(caller, vmId);
        RangeChecks.FileRange(offset, size);
        vm.UnderMemoryLock(_ =>
        {
            var entry = vm.Memory.GetMemfd(id);
            using (CoreActivities.Start(span, vm.Id, offset, size))
            {
                entry.File.Fallocate(mode, (long)offset, (long)size);
            }
        });
    }
}
