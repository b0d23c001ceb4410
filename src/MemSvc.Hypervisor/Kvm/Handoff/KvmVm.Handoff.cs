using System.Runtime.InteropServices;
using MemSvc.Hypervisor.Kvm.Handoff;
using MemSvc.Hypervisor.Memory;

namespace MemSvc.Hypervisor.Kvm;

/// <summary>
/// A planned handoff's part of the VM, the old side: what can move (<see cref="WhyNoHandoff"/>) and its description
/// with the descriptors that carry its memory (<see cref="Export"/>). <see cref="KvmVmState"/> says why the VM is
/// made again in the next process rather than its fds adopted.
/// </summary>
public sealed partial class KvmVm
{
    /// <summary>Why this VM cannot be handed off, or null; <paramref name="openFiles"/> are the guest_memfds whose fd the caller holds.</summary>
    public string? WhyNoHandoff(IEnumerable<IGuestMemfd> openFiles)
    {
        ArgumentNullException.ThrowIfNull(openFiles);
        lock (_lock)
        {
            ThrowIfDisposed();
            foreach (var file in openFiles.Concat(_slots.Values.Select(s => s.Region.GuestMemfd)).OfType<IGuestMemfd>())
            {
                if (file is not KvmGuestMemfd { IsClosed: false } own)
                {
                    return $"a guest_memfd whose fd is closed is still bound to a memslot: its bytes cannot be copied to the new VM (a guest_memfd binds to no other VM)";
                }

                if (!own.Flags.HasFlag(GuestMemfdFlags.Mmap | GuestMemfdFlags.InitShared))
                {
                    return $"guest_memfd (inode {own.Inode}) lacks GUEST_MEMFD_FLAG_MMAP|INIT_SHARED: the host cannot read its bytes to copy them to the new VM, and a guest_memfd binds to no other VM";
                }
            }

            var run = _attributes.Runs(0, ulong.MaxValue).FirstOrDefault(r => r.Value != MemoryAttributes.None);
            if (run.Value != MemoryAttributes.None)
            {
                return $"gpa 0x{run.Start:x} has memory attributes {run.Value}: private bytes cannot be read to move them to the new VM";
            }

            foreach (var slot in _slots.Values)
            {
                if (slot.Shared.Backing is SharedBacking.RawAddress { UserspaceAddress: not 0 })
                {
                    return $"memslot {slot.Region.Slot} has a raw userspace_addr, which means nothing in another process";
                }

                if (slot.Shared.IsUnmapped)
                {
                    return $"memslot {slot.Region.Slot}'s shared side was unmapped (UnmapSharedBacking); its stale address means nothing in another process";
                }
            }

            return null;
        }
    }

    /// <summary>
    /// The VM's description for the next process; the descriptors it names (each a duplicate the list owns) are
    /// appended to <paramref name="descriptors"/>. Every vCPU's thread must be stopped: each vCPU is brought to a
    /// clean stop here (<see cref="KvmVcpu.Export"/>).
    /// </summary>
    public KvmVmState Export(IEnumerable<IGuestMemfd> openFiles, IList<SafeHandle> descriptors)
    {
        ArgumentNullException.ThrowIfNull(descriptors);
        if (WhyNoHandoff(openFiles) is { } why)
        {
            throw new HypervisorException(Errno.EINVAL, "handoff", why, "vm");
        }

        int Pass(SafeHandle fd, string what)
        {
            descriptors.Add(FileDescriptor.Duplicate(fd, what));
            return descriptors.Count - 1;
        }

        List<KvmVcpu> vcpus;
        KvmVmState state;
        lock (_lock)
        {
            var files = new SortedDictionary<ulong, KvmGuestMemfd>();
            foreach (var file in openFiles.Concat(_slots.Values.Select(s => s.Region.GuestMemfd)).OfType<KvmGuestMemfd>())
            {
                files.TryAdd(file.Inode, file);
            }

            var fileStates = files.Values.Select(f => new KvmFileState(f.Inode, f.Size, f.Flags, Pass(f.Handle, "a guest_memfd"))).ToList();
            var slots = _slots.Values.OrderBy(s => s.Region.Slot).Select(s => new KvmSlotState(
                s.Region.Slot,
                s.Region.Flags,
                s.Region.GuestPhysAddr,
                s.Region.MemorySize,
                s.Shared.Backing switch
                {
                    SharedBacking.AnonymousMemory => KvmSharedSideKind.Anonymous,
                    SharedBacking.GuestMemfdMap when s.Shared.MappedLength != 0 => KvmSharedSideKind.GuestMemfdMapping,
                    _ => KvmSharedSideKind.None,
                },
                s.Shared.UserspaceAddress,
                s.Shared.Memfd is { } memfd ? Pass(memfd, "a memslot's shared memory") : null,
                (s.Region.GuestMemfd as KvmGuestMemfd)?.Inode,
                s.Region.GuestMemfdOffset)).ToList();
            var boot = _boot is null ? null : new KvmBootState((ulong)_boot.Address, Pass(_boot.Memfd, "the boot memory"));
            var attributes = _attributes.Runs(0, ulong.MaxValue).Where(r => r.Value != MemoryAttributes.None).Select(r => new ValueRun(r.Start, r.End, (ulong)r.Value)).ToList();
            vcpus = [.. _vcpus];
            state = new KvmVmState(Type, _exitHypercallMask, attributes, fileStates, slots, boot, [], _vcpuConstants.RunMmapSize);
        }

        // Outside the VM's lock: a vCPU's run gate is taken before it, never after.
        return state with { Vcpus = [.. vcpus.Select(v => v.Export())] };
    }
}
