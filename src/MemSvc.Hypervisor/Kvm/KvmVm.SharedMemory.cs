namespace MemSvc.Hypervisor.Kvm;

/// <summary>The host's view of guest memory: the shared sides of the memslots, never the boot memory.</summary>
public sealed partial class KvmVm
{
    private const ulong PageSize = 4096;

    public void ReadSharedMemory(ulong gpa, Span<byte> destination)
    {
        lock (_lock)
        {
            ThrowIfDisposed();
            foreach (var piece in Pieces("ReadSharedMemory", gpa, (ulong)destination.Length))
            {
                HostBytes(piece).CopyTo(destination.Slice(piece.BufferOffset, piece.Length));
            }
        }
    }

    public void WriteSharedMemory(ulong gpa, ReadOnlySpan<byte> source)
    {
        lock (_lock)
        {
            ThrowIfDisposed();
            foreach (var piece in Pieces("WriteSharedMemory", gpa, (ulong)source.Length))
            {
                source.Slice(piece.BufferOffset, piece.Length).CopyTo(HostBytes(piece));
            }
        }
    }

    public void DiscardSharedMemory(ulong gpa, ulong size)
    {
        lock (_lock)
        {
            ThrowIfDisposed();
            if (gpa % PageSize != 0 || size % PageSize != 0)
            {
                throw new HypervisorException(Errno.EINVAL, "madvise", "gpa and size must be page aligned", gpa % PageSize != 0 ? "gpa" : "size");
            }

            foreach (var piece in Pieces("DiscardSharedMemory", gpa, size))
            {
                piece.Side.Discard(piece.SlotOffset, (ulong)piece.Length);
            }
        }
    }

    private static unsafe Span<byte> HostBytes(Piece piece)
    {
        // Sound: Pieces only returns ranges inside a shared side that MemSvc mapped itself, that is still mapped
        // (unmapping and deletion take _lock, which the caller holds) and that cannot SIGBUS (anonymous memory,
        // or an INIT_SHARED guest_memfd inside its file size, which the kernel checked when binding the slot).
        return new Span<byte>((void*)piece.Side.HostAddress(piece.SlotOffset), piece.Length);
    }

    // Splits [gpa, gpa+length) by memslot; the whole range must be host-accessible, else nothing is touched.
    private List<Piece> Pieces(string operation, ulong gpa, ulong length)
    {
        var pieces = new List<Piece>();
        if (gpa + length < gpa)
        {
            throw new HypervisorException(Errno.EFAULT, operation, "gpa + length overflows 2^64", "gpa");
        }

        var cursor = gpa;
        var end = gpa + length;
        while (cursor < end)
        {
            var slot = _slots.Values.FirstOrDefault(s => s.Region.Range.Contains(cursor));
            if (slot is null)
            {
                throw new HypervisorException(Errno.EFAULT, operation, $"no memslot covers gpa 0x{cursor:x}", "gpa");
            }

            if (!slot.Shared.IsHostAccessible)
            {
                throw new HypervisorException(Errno.EFAULT, operation, $"memslot {slot.Region.Slot} has no shared side the host can touch at gpa 0x{cursor:x} ({SharedSideName(slot.Shared)})", "gpa");
            }

            var chunk = Math.Min(end, slot.Region.Range.End) - cursor;
            if (chunk > int.MaxValue)
            {
                chunk = int.MaxValue & ~(PageSize - 1);
            }

            pieces.Add(new Piece(slot.Shared, cursor - slot.Region.GuestPhysAddr, (int)(cursor - gpa), (int)chunk));
            cursor += chunk;
        }

        return pieces;
    }

    private static string SharedSideName(SharedSide side) => side.Backing switch
    {
        SharedBacking.NoBacking => "userspace_addr is 0",
        SharedBacking.RawAddress => "a raw userspace_addr MemSvc does not own",
        SharedBacking.GuestMemfdMap => "a guest_memfd mapping that is unmapped or lacks GUEST_MEMFD_FLAG_INIT_SHARED",
        _ => "anonymous memory unmapped by UnmapSharedBacking",
    };

    /// <summary>Bytes [SlotOffset, SlotOffset+Length) of a slot's shared side, for buffer bytes from BufferOffset.</summary>
    private readonly record struct Piece(SharedSide Side, ulong SlotOffset, int BufferOffset, int Length);
}
