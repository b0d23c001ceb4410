using Grpc.Core;

namespace MemSvc.Cli.Infrastructure;

/// <summary>Exit codes scripts can branch on: one per class of gRPC status, plus the command line's own.</summary>
internal static class ExitCodes
{
    public const int Ok = 0;
    public const int Failure = 1;
    public const int Usage = 2;
    public const int InvalidArgument = 3;
    public const int NotFound = 4;
    public const int Conflict = 5;
    public const int FailedPrecondition = 6;
    public const int PermissionDenied = 7;
    public const int ResourceExhausted = 8;
    public const int Unavailable = 9;
    public const int Unimplemented = 10;
    public const int Internal = 11;
    public const int CheckFailed = 12;
    public const int UpgradeFailed = 13;
    public const int Interrupted = 130;

    /// <summary>The table shown by <c>memsvcctl --help</c> and in README.md.</summary>
    public const string Table = """
        Exit codes:
          0    ok
          1    unexpected failure of memsvcctl itself
          2    usage error (bad option, number or guest program)
          3    INVALID_ARGUMENT or OUT_OF_RANGE (the request was refused as malformed)
          4    NOT_FOUND (VM, guest_memfd, memory region, vCPU or fault)
          5    ALREADY_EXISTS or ABORTED (conflict)
          6    FAILED_PRECONDITION (wrong state or missing capability)
          7    PERMISSION_DENIED or UNAUTHENTICATED
          8    RESOURCE_EXHAUSTED (quota, memory)
          9    UNAVAILABLE, DEADLINE_EXCEEDED or CANCELLED (server unreachable or slow: retry later)
          10   UNIMPLEMENTED
          11   INTERNAL, UNKNOWN or DATA_LOSS (server bug)
          12   a check failed (demo: a vCPU did not halt cleanly or watchers disagreed)
          13   daemon upgrade: the new process did not take over (the old one serves on unless it says otherwise)
          130  interrupted (Ctrl-C)
        """;

    public static int For(StatusCode code) => code switch
    {
        StatusCode.OK => Ok,
        StatusCode.InvalidArgument or StatusCode.OutOfRange => InvalidArgument,
        StatusCode.NotFound => NotFound,
        StatusCode.AlreadyExists or StatusCode.Aborted => Conflict,
        StatusCode.FailedPrecondition => FailedPrecondition,
        StatusCode.PermissionDenied or StatusCode.Unauthenticated => PermissionDenied,
        StatusCode.ResourceExhausted => ResourceExhausted,
        StatusCode.Unavailable or StatusCode.DeadlineExceeded or StatusCode.Cancelled => Unavailable,
        StatusCode.Unimplemented => Unimplemented,
        _ => Internal,
    };
}
