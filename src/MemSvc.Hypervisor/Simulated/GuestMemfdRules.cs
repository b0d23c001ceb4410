namespace MemSvc.Hypervisor.Simulated;

/// <summary>The checks of KVM_CREATE_GUEST_MEMFD and of fallocate(2) on a guest_memfd, in the kernel's order.</summary>
internal static class GuestMemfdRules
{
    private const string Create = "KVM_CREATE_GUEST_MEMFD";
    private const string Fallocate = "fallocate";

    // FALLOC_FL_SUPPORTED_MASK of vfs_fallocate (v6.18: with FALLOC_FL_WRITE_ZEROES, 0x80).
    private const int VfsSupportedModes = 0x01 | 0x02 | 0x08 | 0x10 | 0x20 | 0x40 | 0x80;
    private const int KeepSize = (int)FallocateMode.KeepSize;
    private const int PunchHole = (int)FallocateMode.PunchHole;

    /// <summary>
    /// kvm_gmem_get_supported_flags: the profile's flags (none without guest_memfd), less INIT_SHARED on VMs with
    /// private memory (GM-4). <paramref name="type"/> null: /dev/kvm's answer, where no VM narrows it.
    /// </summary>
    public static GuestMemfdFlags SupportedFlags(SimulatedHostProfile profile, VmType? type)
    {
        var flags = profile.GuestMemfd ? profile.GuestMemfdFlags : GuestMemfdFlags.None;
        return type?.HasPrivateMemory() == true ? flags & ~GuestMemfdFlags.InitShared : flags;
    }

    /// <summary>
    /// KVM_CREATE_GUEST_MEMFD: ENOTTY where the kernel has no guest_memfd (kvm_vm_ioctl does not know the ioctl,
    /// whatever the arguments), then kvm_gmem_create's flags (GM-3) and size as a loff_t (GM-1, GM-2).
    /// </summary>
    public static void CheckCreate(SimulatedHostProfile profile, VmCapabilities vm, VmType type, ulong size, GuestMemfdFlags flags)
    {
        if (!profile.GuestMemfd)
        {
            throw new HypervisorException(Errno.ENOTTY, Create, "this kernel has no guest_memfd (KVM_CAP_GUEST_MEMFD is 0)");
        }

        var unsupported = flags & ~vm.GuestMemfdFlags;
        if (unsupported != 0)
        {
            throw Fail.Inval(Create, $"flags 0x{(ulong)unsupported:x} are not supported on a {type} VM", "flags");
        }

        if ((long)size <= 0)
        {
            throw Fail.Inval(Create, $"size 0x{size:x} is not a positive loff_t", "size");
        }

        if (!KvmLimits.IsPageAligned(size))
        {
            throw Fail.Inval(Create, $"size 0x{size:x} is not page aligned", "size");
        }
    }

    /// <summary>vfs_fallocate's checks, then kvm_gmem_fallocate's, then kvm_gmem_allocate's (FA-1..FA-10).</summary>
    public static void CheckFallocate(FallocateMode fallocateMode, long offset, long length, ulong size)
    {
        var mode = (int)fallocateMode;
        if (offset < 0)
        {
            throw Fail.Inval(Fallocate, $"offset {offset} is negative", "offset");
        }

        if (length <= 0)
        {
            throw Fail.Inval(Fallocate, $"len {length} is not positive", "len");
        }

        if ((mode & ~VfsSupportedModes) != 0 || !VfsModeCombinationValid(mode))
        {
            throw Fail.With(Errno.EOPNOTSUPP, Fallocate, $"mode 0x{mode:x} is not a valid fallocate mode", "mode");
        }

        if (offset > long.MaxValue - length)
        {
            throw Fail.With(Errno.EFBIG, Fallocate, $"offset {offset} + len {length} overflows loff_t", "len");
        }

        if ((mode & KeepSize) == 0 || (mode & ~(KeepSize | PunchHole)) != 0)
        {
            throw Fail.With(Errno.EOPNOTSUPP, Fallocate, $"guest_memfd supports only KEEP_SIZE and PUNCH_HOLE|KEEP_SIZE, not 0x{mode:x}", "mode");
        }

        if (!KvmLimits.IsPageAligned((ulong)offset))
        {
            throw Fail.Inval(Fallocate, $"offset 0x{offset:x} is not page aligned", "offset");
        }

        if (!KvmLimits.IsPageAligned((ulong)length))
        {
            throw Fail.Inval(Fallocate, $"len 0x{length:x} is not page aligned", "len");
        }

        if ((mode & PunchHole) == 0 && (ulong)offset + (ulong)length > size)
        {
            throw Fail.Inval(Fallocate, $"allocation [0x{offset:x}, 0x{offset + length:x}) goes past the file size 0x{size:x}", "len");
        }
    }

    // The mode switch of vfs_fallocate (v6.12+): one operation, with KEEP_SIZE where it applies.
    private static bool VfsModeCombinationValid(int mode)
    {
        var operation = mode & ~KeepSize;
        return operation switch
        {
            0 or 0x40 or 0x10 => true,
            PunchHole => (mode & KeepSize) != 0,
            0x08 or 0x20 or 0x80 => (mode & KeepSize) == 0,
            _ => false,
        };
    }
}
