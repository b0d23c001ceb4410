using System.Runtime.InteropServices;
using MemSvc.Hypervisor.Kvm.Handoff;

namespace MemSvc.Hypervisor.Kvm;

/// <summary>
/// A planned handoff's part of the VM, the new side: a VM just created in this process takes the description and
/// the passed descriptors of one made in another (<see cref="KvmHypervisor.Adopt"/>).
/// <para>
/// Where the shared sides go: at the address each had in the old process when nothing is mapped there here
/// (MAP_FIXED_NOREPLACE), else wherever the kernel puts it, and the memslot is created with that address. Either
/// is correct because the memslot is created anew in a new VM (the old VM's fd answers EIO here, so its memslots
/// cannot be kept): KVM only needs userspace_addr to map the same memfd pages, and a forced fixed address could
/// land on the runtime's own mappings (another binary, another ASLR layout). The same address is preferred so
/// that what a memslot reports does not change across a handoff when it need not.
/// </para>
/// </summary>
public sealed partial class KvmVm
{
    /// <summary>
    /// Makes this new VM what <paramref name="state"/> describes. <paramref name="files"/> receives each new
    /// guest_memfd under the inode the old one had (the caller disposes them if this fails); returns the vCPUs in
    /// the state's order, restored but not running.
    /// </summary>
    internal List<KvmVcpu> Import(KvmVmState state, IReadOnlyList<SafeHandle> descriptors, Dictionary<ulong, KvmGuestMemfd> files)
    {
        SafeHandle Passed(int? index) => index is { } i && i >= 0 && i < descriptors.Count
            ? descriptors[i]
            : throw new HypervisorException(Errno.EBADF, "handoff", $"descriptor {index} was not passed ({descriptors.Count} were)", "descriptor");

        if (state.ExitHypercallMask != 0)
        {
            EnableExitHypercall(state.ExitHypercallMask);
        }

        foreach (var file in state.Files)
        {
            var made = (KvmGuestMemfd)CreateGuestMemfd(file.Size, file.Flags);
            files.Add(file.Inode, made);
            GuestMemfdCopy.Copy(Passed(file.Descriptor), made);
        }

        foreach (var run in state.Attributes)
        {
            SetMemoryAttributes(run.Start, run.End - run.Start, (MemoryAttributes)run.Value);
        }

        lock (_lock)
        {
            if (state.Boot is { } boot)
            {
                InstallBootMemory(BootMemory.Adopt(FileDescriptor.Duplicate(Passed(boot.Descriptor), "the boot memory"), boot.UserspaceAddr));
            }

            foreach (var slot in state.Slots)
            {
                AdoptSlot(slot, files, Passed);
            }

            var vcpus = new List<KvmVcpu>(state.Vcpus.Count);
            foreach (var vcpu in state.Vcpus)
            {
                if (_boot is null || vcpu.Ordinal != _vcpus.Count)
                {
                    throw new HypervisorException(Errno.EINVAL, "handoff", $"vCPU {vcpu.Index} has code area {vcpu.Ordinal}, not {_vcpus.Count}, or there is no boot memory", "vcpu");
                }

                var made = new KvmVcpu(this, _fd.CreateVcpu(vcpu.Index), vcpu.Index, vcpu.Ordinal, _boot, _vcpuConstants, vcpu);
                _vcpus.Add(made);
                vcpus.Add(made);
            }

            return vcpus;
        }
    }

    // Under the lock: one memslot, its shared side mapped again, created in this VM.
    private void AdoptSlot(KvmSlotState slot, Dictionary<ulong, KvmGuestMemfd> files, Func<int?, SafeHandle> passed)
    {
        var file = slot.GuestMemfdInode is { } inode
            ? files.GetValueOrDefault(inode) ?? throw new HypervisorException(Errno.EBADF, "handoff", $"memslot {slot.Slot}: no guest_memfd of inode {inode} came with the VM", "guest_memfd")
            : null;
        var shared = slot.Side switch
        {
            KvmSharedSideKind.Anonymous => SharedSide.AdoptAnonymous(FileDescriptor.Duplicate(passed(slot.Descriptor), "a memslot's shared memory"), slot.Size, slot.UserspaceAddr),
            KvmSharedSideKind.GuestMemfdMapping when file is not null => SharedSide.AdoptGuestMemfd(file, slot.GuestMemfdOffset, slot.Size, slot.UserspaceAddr),
            KvmSharedSideKind.GuestMemfdMapping => throw new HypervisorException(Errno.EBADF, "handoff", $"memslot {slot.Slot} maps a guest_memfd that did not come with the VM", "guest_memfd"),
            _ => SharedSide.Raw(SharedBacking.None, 0),
        };
        var backing = slot.Side switch
        {
            KvmSharedSideKind.Anonymous => SharedBacking.Anonymous,
            KvmSharedSideKind.GuestMemfdMapping => SharedBacking.GuestMemfdMapping,
            _ => SharedBacking.None,
        };
        var region = new MemoryRegion(slot.Slot, slot.Flags, slot.Gpa, slot.Size, backing, file, slot.GuestMemfdOffset);
        try
        {
            // The file is this VM's own and not published yet: nothing can close its fd during the ioctl.
            var request = Request(region, shared.UserspaceAddress, file?.Handle.Number ?? -1);
            SetRegion(ref request);
        }
        catch
        {
            shared.Dispose();
            throw;
        }

        _slots[slot.Slot] = new Memslot(region, shared);
    }
}
