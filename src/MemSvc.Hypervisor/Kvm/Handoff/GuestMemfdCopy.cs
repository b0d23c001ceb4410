using System.Runtime.InteropServices;

namespace MemSvc.Hypervisor.Kvm.Handoff;

/// <summary>
/// Copies a guest_memfd of a handed-off VM into the new VM's own: a guest_memfd binds only to the VM that created it,
/// so its bytes are what moves. Only the pages the old file holds are read (mincore on a mapping of it): reading a
/// hole would allocate it, in both files. mincore sees every page of a guest_memfd, which is unevictable (never in
/// swap, where mincore would miss it).
/// </summary>
internal static class GuestMemfdCopy
{
    private const ulong PageSize = 4096;

    // At most this much per WriteMapped (which copies at most 2 GiB at once).
    private const ulong Chunk = 1UL << 30;

    /// <summary>The passed fd <paramref name="from"/> of the old file, into <paramref name="to"/> (same size, MMAP|INIT_SHARED).</summary>
    public static unsafe void Copy(SafeHandle from, KvmGuestMemfd to)
    {
        if (to.Size == 0)
        {
            return;
        }

        using var source = MappedMemory.OfFile(from, 0, to.Size);
        var resident = new byte[(to.Size + PageSize - 1) / PageSize];

        // Sound: the vector has one byte per page of the mapping, which is to.Size bytes long and mapped here.
        fixed (byte* vector = resident)
        {
            if (LibC.Mincore(source.Address, (nuint)to.Size, vector) != 0)
            {
                throw KvmErrors.LastError("mincore", "finding the pages of a handed-off guest_memfd failed");
            }
        }

        var page = 0UL;
        while (page < (ulong)resident.Length)
        {
            if ((resident[page] & 1) == 0)
            {
                page++;
                continue;
            }

            var start = page;
            while (page < (ulong)resident.Length && (resident[page] & 1) != 0 && (page - start) * PageSize < Chunk)
            {
                page++;
            }

            var offset = start * PageSize;
            var length = Math.Min(page * PageSize, to.Size) - offset;

            // Sound: [offset, offset+length) lies inside the mapping of the old file (to.Size bytes, its size), which
            // stays mapped until the end of this method; its pages are shared (INIT_SHARED), so reading cannot SIGBUS.
            to.WriteMapped(offset, new ReadOnlySpan<byte>((byte*)source.Address + offset, (int)length));
        }
    }
}
