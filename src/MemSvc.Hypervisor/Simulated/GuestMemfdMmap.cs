namespace MemSvc.Hypervisor.Simulated;

/// <summary>
/// mmap(NULL, length, PROT_READ|PROT_WRITE, MAP_SHARED, guest_memfd, offset) into the model's user address space,
/// with the errors in the order the syscall meets them: sys_mmap's offset alignment, fget, do_mmap's length and
/// get_unmapped_area, file_mmap_ok (EOVERFLOW past MAX_LFS_FILESIZE), and only then the file's own ->mmap
/// (kvm_gmem_mmap: ENODEV without GUEST_MEMFD_FLAG_MMAP). So a length that fits nowhere is ENOMEM, and a range that
/// ends past 2^63 - 1 EOVERFLOW, even on a file that could never be mapped (both measured on Debian's 6.18.15).
/// Called with the file's VM lock held.
/// </summary>
internal static class GuestMemfdMmap
{
    public const string Operation = "mmap";

    /// <summary>MAX_LFS_FILESIZE on 64-bit: what file_mmap_size_max gives for a guest_memfd, whose inode is S_IFREG.</summary>
    private const ulong MaxLfsFileSize = long.MaxValue;

    /// <param name="file">The file; null for an fd that is not open (-1), as fget sees it.</param>
    public static GuestMemfdMapping Map(UserAddressSpace space, SimulatedGuestMemfd? file, ulong offset, ulong length)
    {
        if (!KvmLimits.IsPageAligned(offset))
        {
            throw Fail.Inval(Operation, $"offset 0x{offset:x} is not page aligned", "guest_memfd_offset");
        }

        if (file is null || !file.FdOpen)
        {
            throw Fail.With(Errno.EBADF, Operation, file is null ? "there is no guest_memfd to map" : "guest_memfd is closed", "guest_memfd");
        }

        if (length == 0)
        {
            throw Fail.Inval(Operation, "length is 0", "length");
        }

        // get_unmapped_area: ENOMEM when no gap is large enough (any length above the user address space).
        var mapping = space.MapGuestMemfd(file, offset, length);

        // file_mmap_ok, as the kernel computes it (in pages, so it never wraps): the mapping must end within
        // MAX_LFS_FILESIZE. do_mmap checks it after get_unmapped_area and before any vma reaches the file.
        var aligned = (length + KvmLimits.PageMask) & ~KvmLimits.PageMask;
        if (aligned > MaxLfsFileSize || offset >> KvmLimits.PageShift > (MaxLfsFileSize - aligned) >> KvmLimits.PageShift)
        {
            space.Unmap(mapping);
            throw Fail.With(Errno.EOVERFLOW, Operation, $"offset 0x{offset:x} + length 0x{length:x} ends past MAX_LFS_FILESIZE (2^63 - 1)", "guest_memfd_offset");
        }

        if (!file.HasMmap)
        {
            // The vma is built before ->mmap runs and freed when it fails: nothing stays mapped.
            space.Unmap(mapping);
            throw Fail.With(Errno.ENODEV, Operation, "guest_memfd was created without GUEST_MEMFD_FLAG_MMAP", "guest_memfd");
        }

        file.AddMapping();
        return mapping;
    }
}
