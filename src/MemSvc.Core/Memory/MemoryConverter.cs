using System.Diagnostics;
using MemSvc.Core.Errors;
using MemSvc.Core.Events;
using MemSvc.Core.Logging;
using MemSvc.Core.Telemetry;
using MemSvc.Core.Vms;
using MemSvc.Hypervisor;

namespace MemSvc.Core.Memory;

/// <summary>
/// Conversion as QEMU's kvm_convert_memory does it: set the attribute over the range, then release the side no
/// longer used: to shared, punch the guest_memfd behind each memslot portion; to private, discard the shared
/// backing. Gmem-only slots release nothing: their shared and private sides are the same file pages.
/// </summary>
internal sealed class MemoryConverter(ManagedVm vm)
{
    public VmEvent? Convert(ulong gpa, ulong size, bool toPrivate, ConversionInitiator initiator, ulong faultId, int? vcpu)
    {
        var started = Stopwatch.GetTimestamp();
        using var activity = CoreActivities.Start("memsvc.core.convert", vm.Id, gpa, size);
        activity?.SetTag("to_private", toPrivate);
        activity?.SetTag("initiator", initiator.ToString());
        if (vcpu is { } index)
        {
            activity?.SetTag("vcpu", index);
        }
        try
        {
            lock (vm.Memory.Sync)
            {
                vm.ThrowIfDeleted();
                var portions = vm.Memory.PrivateCapablePortions(gpa, size) ?? throw NotPrivateCapable(gpa, size);
                var previous = vm.Vm.GetMemoryAttributes(gpa, size);
                vm.Vm.SetMemoryAttributes(gpa, size, toPrivate ? MemoryAttributes.Private : MemoryAttributes.None);
                try
                {
                    Release(portions, toPrivate);
                }
                catch (HypervisorException)
                {
                    Restore(previous);
                    throw;
                }

                var duration = Stopwatch.GetElapsedTime(started);
                vm.Metrics.Conversion(vm.Id, vm.Uid, toPrivate, initiator, duration);
                CoreLog.ConversionApplied(vm.Logger, vm.Id, gpa, size, CoreMetrics.Direction(toPrivate), initiator, faultId, duration.TotalMilliseconds);
                return vm.Journal.Append(new EventPayload.ConversionApplied(gpa, size, toPrivate, initiator, (long)duration.TotalNanoseconds, faultId, vcpu));
            }
        }
        catch (Exception e) when (e is CoreException or HypervisorException)
        {
            CoreActivities.Fail(activity, e);
            if (e is HypervisorException backend)
            {
                CoreLog.BackendCallFailed(vm.Logger, vm.Id, backend.Operation, backend.Errno, backend.Reason);
            }

            throw;
        }
    }

    private void Release(List<(RegionEntry Region, ulong Start, ulong Size)> portions, bool toPrivate)
    {
        foreach (var (region, start, length) in portions)
        {
            if (region.SharedBacking == SharedBackingKind.GuestMemfd)
            {
                continue;
            }

            if (!toPrivate)
            {
                // A closed file cannot be punched; its pages went with the last reference, as in KVM.
                if (region.File is { IsClosed: false } file)
                {
                    file.Fallocate(FallocateMode.PunchHole | FallocateMode.KeepSize, (long)(region.GuestMemfdOffset + (start - region.Gpa)), (long)length);
                }
            }
            else if (!region.BackingRevoked)
            {
                vm.Vm.DiscardSharedMemory(start, length);
            }
        }
    }

    // A release step failed after the attribute changed: put the attribute back so that the call changes nothing
    // the caller can observe through the API, then let the backend's error through.
    private void Restore(IReadOnlyList<AttributeRange> previous)
    {
        foreach (var run in previous)
        {
            try
            {
                vm.Vm.SetMemoryAttributes(run.Start, run.Size, run.Attributes);
            }
            catch (HypervisorException e)
            {
                // The original failure is the one to report; a failed restore leaves the backend's own state.
                CoreLog.ConversionRestoreFailed(vm.Logger, e, vm.Id, run.Start, run.Size, e.Errno);
            }
        }
    }

    private static CoreException NotPrivateCapable(ulong gpa, ulong size) =>
        new(
            ErrorKind.FailedPrecondition,
            ErrorReasons.RangeNotPrivateCapable,
            $"[{CoreErrors.Hex(gpa)}, {CoreErrors.Hex(gpa + size)}) is not wholly covered by memory regions with a guest_memfd",
            "gpa",
            new Dictionary<string, string> { ["gpa"] = CoreErrors.Hex(gpa), ["size"] = CoreErrors.Hex(size) });
}
