namespace MemSvc.Hypervisor;

/// <summary>
/// What a failed hypervisor operation means to its caller, in kinds the layers above map without knowing errnos
/// (as cloud-hypervisor's hypervisor crate hands its VMM typed errors, not raw ioctl results).
/// </summary>
public enum HypervisorErrorKind
{
    /// <summary>An argument the kernel refuses (EINVAL).</summary>
    InvalidArgument,

    /// <summary>The object named is not there (EBADF for a closed fd, ENOENT).</summary>
    NotFound,

    /// <summary>It would collide with what exists (EEXIST: an overlapping memslot).</summary>
    AlreadyExists,

    /// <summary>The host cannot do it in its present state or at all (ENOTTY, EOPNOTSUPP, ENODEV, EFAULT).</summary>
    FailedPrecondition,

    /// <summary>Memory or space ran out (ENOMEM, ENOSPC).</summary>
    ResourceExhausted,

    /// <summary>Past a size the kernel allows (EFBIG, EOVERFLOW).</summary>
    OutOfRange,

    /// <summary>Refused for who is asking (EPERM, EACCES).</summary>
    PermissionDenied,

    /// <summary>Anything else: a kernel or MemSvc problem no caller can fix by asking differently.</summary>
    Internal,
}
