namespace MemSvc.Core.Errors;

/// <summary>
/// The kinds of failure the VMM reports. They mirror gRPC's status codes one to one, but this layer knows no
/// gRPC: the server's error table maps them (and hypervisor errnos) to status codes in one place.
/// </summary>
public enum ErrorKind
{
    InvalidArgument,
    NotFound,
    AlreadyExists,
    FailedPrecondition,
    ResourceExhausted,
    OutOfRange,
    PermissionDenied,
    Unimplemented,
    Aborted,
    Unavailable,
    DeadlineExceeded,
    Internal,
}
