namespace MemSvc.Hypervisor.Simulated;

public sealed partial class SimulatedVm
{
    private const string ReadOp = "ReadSharedMemory";
    private const string WriteOp = "WriteSharedMemory";

    public void ReadSharedMemory(ulong gpa, Span<byte> destination)
    {
        lock (SyncRoot)
        {
            ThrowIfDisposed(ReadOp);
            CheckHostRange(ReadOp, gpa, (ulong)destination.Length);
            var cursor = gpa;
            while (!destination.IsEmpty)
            {
                var chunk = (int)Math.Min((ulong)destination.Length, KvmLimits.PageSize - (cursor & KvmLimits.PageMask));
                var target = ResolveHostPage(ReadOp, KvmLimits.PageOf(cursor));
                target.Store.Read(target.Offset + (cursor & KvmLimits.PageMask), destination[..chunk]);
                destination = destination[chunk..];
                cursor += (ulong)chunk;
            }
        }
    }

    public void WriteSharedMemory(ulong gpa, ReadOnlySpan<byte> source)
    {
        lock (SyncRoot)
        {
            ThrowIfDisposed(WriteOp);
            CheckHostRange(WriteOp, gpa, (ulong)source.Length);

            // Every page first, so that a failing write changes nothing.
            for (var page = KvmLimits.PageOf(gpa); page < gpa + (ulong)source.Length; page += KvmLimits.PageSize)
            {
                ResolveHostPage(WriteOp, page);
            }

            var cursor = gpa;
            while (!source.IsEmpty)
            {
                var chunk = (int)Math.Min((ulong)source.Length, KvmLimits.PageSize - (cursor & KvmLimits.PageMask));
                var target = ResolveHostPage(WriteOp, KvmLimits.PageOf(cursor));
                target.Store.Write(target.Offset + (cursor & KvmLimits.PageMask), source[..chunk]);
                source = source[chunk..];
                cursor += (ulong)chunk;
            }
        }
    }

    public void DiscardSharedMemory(ulong gpa, ulong size)
    {
        const string op = "madvise";
        lock (SyncRoot)
        {
            ThrowIfDisposed(op);
            if (!KvmLimits.IsPageAligned(gpa))
            {
                throw Fail.Inval(op, $"gpa 0x{gpa:x} is not page aligned", "gpa");
            }

            if (!KvmLimits.IsPageAligned(size) || gpa + size < gpa)
            {
                throw Fail.Inval(op, $"size 0x{size:x} is unaligned or wraps", "size");
            }

            // By runs of pages behind one mapping, as madvise walks VMAs: a GiB is a few calls, not 262,144 (the
            // fairness benchmark's 4 GiB conversions allocated ~200 MB each page by page, and the GC pauses that
            // followed stalled every other owner's calls).
            var end = gpa + size;
            for (var page = gpa; page < end; page = HostRunEnd(page, end))
            {
                if (ResolveHostMapping(page) is null)
                {
                    throw Fail.With(Errno.ENOMEM, op, $"gpa 0x{page:x} has no mapped shared side", "gpa");
                }
            }

            for (var page = gpa; page < end;)
            {
                var runEnd = HostRunEnd(page, end);
                var (mapping, hva) = ResolveHostMapping(page)!.Value;
                if (mapping is GuestMemfdMapping g)
                {
                    // MADV_REMOVE / fallocate on a guest_memfd mapping punches the file (and zaps its bindings).
                    var offset = g.FileOffset + (hva - g.Start);
                    lock (g.File.Owner.SyncRoot)
                    {
                        if (offset < g.File.Size && !g.File.IsReleased)
                        {
                            g.File.PunchLocked(offset, Math.Min(offset + (runEnd - page), g.File.Size));
                        }
                    }
                }
                else if (mapping is AnonymousMapping a)
                {
                    // MADV_DONTNEED: the mmu_notifier zaps the guest's mapping, the pages read back as zero.
                    Mmu.Zap(page, runEnd);
                    a.Store.Zero(hva - a.Start, runEnd - page);
                }

                page = runEnd;
            }
        }
    }

    // Where the run of pages from page (below end) that one memslot maps through one mapping ends: the next page
    // to resolve. A page with no mapped shared side is a run of its own.
    private ulong HostRunEnd(ulong page, ulong end)
    {
        var slot = Slots.Find(page);
        if (slot is null || ResolveHostMapping(page) is not var (mapping, hva))
        {
            return page + KvmLimits.PageSize;
        }

        return Math.Min(end, Math.Min(slot.End, page + (mapping.End - hva)));
    }

    private static void CheckHostRange(string op, ulong gpa, ulong length)
    {
        if (gpa + length < gpa)
        {
            throw Fail.With(Errno.EFAULT, op, $"[0x{gpa:x}, +0x{length:x}) wraps", "gpa");
        }
    }

    // The mapping behind the shared side of the page at gpa (through userspace_addr), or null.
    private (UserMapping Mapping, ulong Hva)? ResolveHostMapping(ulong page)
    {
        var slot = Slots.Find(page);
        if (slot is null)
        {
            return null;
        }

        var hva = slot.UserspaceAddr + (page - slot.Gpa);
        var mapping = slot.OwnedMapping ?? (slot.UserspaceAddr == 0 ? null : AddressSpace.Find(hva));
        return mapping is { IsMapped: true } && hva >= mapping.Start && hva < mapping.End ? (mapping, hva) : null;
    }

    // The host's view of a shared page: EFAULT where a process would fault or get SIGBUS.
    private PageTarget ResolveHostPage(string op, ulong page)
    {
        var resolved = ResolveHostMapping(page)
            ?? throw Fail.With(Errno.EFAULT, op, $"gpa 0x{page:x} has no memslot or no mapped shared side", "gpa");
        var (mapping, hva) = resolved;
        return ResolveHva(mapping, hva) ?? throw Fail.With(Errno.EFAULT, op, $"gpa 0x{page:x} is private guest_memfd memory or past its end (SIGBUS)", "gpa");
    }

    // What a host access at hva within mapping touches, or null where guest_memfd would SIGBUS (MM-5, MM-6).
    internal PageTarget? ResolveHva(UserMapping mapping, ulong hva)
    {
        switch (mapping)
        {
            case AnonymousMapping a:
                return new PageTarget(a.Store, hva - a.Start);
            case GuestMemfdMapping g:
                var offset = g.FileOffset + (hva - g.Start);
                var file = g.File;
                if (offset >= file.Size)
                {
                    return null;
                }

                // Another VM's file is judged on its flags alone: its attributes are under its own lock.
                var accessible = ReferenceEquals(file.Owner, this)
                    ? file.IsHostAccessible(offset)
                    : (file.Flags & GuestMemfdFlags.InitShared) != 0;
                return accessible ? new PageTarget(file.Store, offset) : null;
            default:
                return null;
        }
    }
}
