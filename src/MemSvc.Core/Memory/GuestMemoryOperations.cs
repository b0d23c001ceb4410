using MemSvc.Core.Errors;
using MemSvc.Core.Events;
using MemSvc.Core.Identity;
using MemSvc.Core.Telemetry;
using MemSvc.Core.Vms;
using MemSvc.Hypervisor;

namespace MemSvc.Core.Memory;

/// <summary>GuestMemoryService, memory part: attributes, ConvertMemory, and shared-memory reads and writes.</summary>
public sealed class GuestMemoryOperations
{
    private readonly CoreContext _context;

    internal GuestMemoryOperations(CoreContext context)
    {
        _context = context;
    }

    /// <summary>KVM_SET_MEMORY_ATTRIBUTES over [gpa, gpa + size): overwrites, releases nothing (see ConvertMemory).</summary>
    public void SetMemoryAttributes(CallerIdentity caller, string vmId, ulong gpa, ulong size, MemoryAttributes attributes)
    {
        var vm = _context.Find(caller, vmId);
        RangeChecks.PageRange(gpa, size);
        lock (vm.Memory.Sync)
        {
            vm.ThrowIfDeleted();
            using (CoreActivities.Start("memsvc.core.set_memory_attributes", vm.Id, gpa, size))
            {
                vm.Vm.SetMemoryAttributes(gpa, size, attributes);
            }
        }
    }

    /// <summary>The attributes of [gpa, gpa + size) as maximal runs in address order, covering the whole range.</summary>
    public IReadOnlyList<AttributeRange> GetMemoryAttributes(CallerIdentity caller, string vmId, ulong gpa, ulong size)
    {
        var vm = _context.Find(caller, vmId);
        RangeChecks.PageRange(gpa, size);
        lock (vm.Memory.Sync)
        {
            vm.ThrowIfDeleted();
            return vm.Vm.GetMemoryAttributes(gpa, size);
        }
    }

    /// <summary>
    /// Converts [gpa, gpa + size) as kvm_convert_memory does (attribute, then release the unused side) and journals
    /// CONVERSION_APPLIED with initiator API. The range must lie in memslots with a guest_memfd.
    /// </summary>
    public ConversionResult ConvertMemory(CallerIdentity caller, string vmId, ulong gpa, ulong size, bool toPrivate)
    {
        var vm = _context.Find(caller, vmId);
        RangeChecks.PageRange(gpa, size);
        var applied = vm.Converter.Convert(gpa, size, toPrivate, ConversionInitiator.Api, faultId: 0, vcpu: null);

        // The caller is told the event's sequence: it must be in the journal's file first (EventJournal.Persist).
        vm.Journal.Persist();
        return new ConversionResult(vm.Id, gpa, size, toPrivate, applied?.Sequence ?? 0);
    }

    /// <summary>Reads shared guest memory; a private page in the range is refused (the host cannot read it).</summary>
    public byte[] ReadGuestMemory(CallerIdentity caller, string vmId, ulong gpa, ulong size)
    {
        var vm = _context.Find(caller, vmId);
        RangeChecks.Transfer(gpa, size, _context.Options.MaxTransferBytes, "size");
        var data = new byte[size];
        lock (vm.Memory.Sync)
        {
            vm.ThrowIfDeleted();
            ThrowIfPrivate(vm, gpa, size);
            using (CoreActivities.Start("memsvc.core.read_guest_memory", vm.Id, gpa, size))
            {
                vm.Vm.ReadSharedMemory(gpa, data);
            }
        }

        return data;
    }

    /// <summary>Writes shared guest memory; a private page in the range is refused and nothing is written.</summary>
    public void WriteGuestMemory(CallerIdentity caller, string vmId, ulong gpa, ReadOnlySpan<byte> data)
    {
        var vm = _context.Find(caller, vmId);
        RangeChecks.Transfer(gpa, (ulong)data.Length, _context.Options.MaxTransferBytes, "data");
        lock (vm.Memory.Sync)
        {
            vm.ThrowIfDeleted();
            ThrowIfPrivate(vm, gpa, (ulong)data.Length);
            using (CoreActivities.Start("memsvc.core.write_guest_memory", vm.Id, gpa, (ulong)data.Length))
            {
                vm.Vm.WriteSharedMemory(gpa, data);
            }
        }
    }

    // Under the VM's memory lock, so that no conversion slips between the check and the access.
    private static void ThrowIfPrivate(ManagedVm vm, ulong gpa, ulong size)
    {
        var firstPage = gpa & ~(RangeChecks.PageSize - 1);
        var lastPage = (gpa + size - 1) & ~(RangeChecks.PageSize - 1);
        foreach (var run in vm.Vm.GetMemoryAttributes(firstPage, lastPage - firstPage + RangeChecks.PageSize))
        {
            if ((run.Attributes & MemoryAttributes.Private) != 0)
            {
                var at = Math.Max(run.Start, gpa);
                throw new CoreException(
                    ErrorKind.FailedPrecondition,
                    ErrorReasons.MemoryIsPrivate,
                    $"gpa {CoreErrors.Hex(at)} is private: the host cannot access private memory",
                    "gpa",
                    CoreErrors.Meta("gpa", CoreErrors.Hex(at)));
            }
        }
    }
}

/// <summary>ConvertMemory's answer: <paramref name="Sequence"/> is the CONVERSION_APPLIED event's.</summary>
public sealed record ConversionResult(string VmId, ulong Gpa, ulong Size, bool ToPrivate, ulong Sequence);
