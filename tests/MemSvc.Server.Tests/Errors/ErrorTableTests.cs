using Google.Rpc;
using Grpc.Core;
using MemSvc.Core.Errors;
using MemSvc.Hypervisor;
using MemSvc.Server.Errors;

namespace MemSvc.Server.Tests.Errors;

/// <summary>The one error table, row by row: every errno and every Core kind to its status.</summary>
public sealed class ErrorTableTests
{
    public static TheoryData<Errno, StatusCode> ErrnoRows => new()
    {
        { Errno.EINVAL, StatusCode.InvalidArgument },
        { Errno.EEXIST, StatusCode.AlreadyExists },
        { Errno.EBADF, StatusCode.NotFound },
        { Errno.ENOENT, StatusCode.NotFound },
        { Errno.ENOMEM, StatusCode.ResourceExhausted },
        { Errno.ENOSPC, StatusCode.ResourceExhausted },
        { Errno.ENOTTY, StatusCode.FailedPrecondition },
        { Errno.EOPNOTSUPP, StatusCode.FailedPrecondition },
        { Errno.ENODEV, StatusCode.FailedPrecondition },
        { Errno.EFAULT, StatusCode.FailedPrecondition },
        { Errno.EFBIG, StatusCode.OutOfRange },
        { Errno.EPERM, StatusCode.PermissionDenied },
        { Errno.EIO, StatusCode.Internal },
        { Errno.EBUSY, StatusCode.Internal },
        { Errno.EAGAIN, StatusCode.Internal },
        { Errno.EHWPOISON, StatusCode.Internal },
    };

    [Theory]
    [MemberData(nameof(ErrnoRows))]
    public void Errno_maps_to_its_status_with_errno_and_operation_in_ErrorInfo(Errno errno, StatusCode code)
    {
        var e = ErrorTable.TryMap(new HypervisorException(errno, "KVM_SOMETHING", "why", "memory_size"))!;
        var status = e.GetRpcStatus()!;
        var info = status.GetDetail<ErrorInfo>();

        Assert.Equal(code, e.StatusCode);
        Assert.Equal(("KERNEL_ERROR", "memsvc"), (info.Reason, info.Domain));
        Assert.Equal(errno.ToString(), info.Metadata["errno"]);
        Assert.Equal("KVM_SOMETHING", info.Metadata["operation"]);
        Assert.Equal("size", status.GetDetail<BadRequest>().FieldViolations.Single().Field);
    }

    [Fact]
    public void A_missing_ioctl_names_the_capability_and_how_to_get_it()
    {
        var e = ErrorTable.TryMap(new HypervisorException(Errno.ENOTTY, "KVM_CREATE_GUEST_MEMFD", "no such ioctl"))!;
        var status = e.GetRpcStatus()!;
        var info = status.GetDetail<ErrorInfo>();

        Assert.Equal((StatusCode.FailedPrecondition, "GUEST_MEMFD_UNSUPPORTED"), (e.StatusCode, info.Reason));
        Assert.Equal("KVM_CAP_GUEST_MEMFD", info.Metadata["capability"]);
        Assert.Contains("simulated backend", status.Message, StringComparison.Ordinal);
        Assert.Null(status.GetDetail<BadRequest>());
    }

    public static TheoryData<ErrorKind, StatusCode> KindRows => new()
    {
        { ErrorKind.InvalidArgument, StatusCode.InvalidArgument },
        { ErrorKind.NotFound, StatusCode.NotFound },
        { ErrorKind.AlreadyExists, StatusCode.AlreadyExists },
        { ErrorKind.FailedPrecondition, StatusCode.FailedPrecondition },
        { ErrorKind.ResourceExhausted, StatusCode.ResourceExhausted },
        { ErrorKind.OutOfRange, StatusCode.OutOfRange },
        { ErrorKind.PermissionDenied, StatusCode.PermissionDenied },
        { ErrorKind.Unimplemented, StatusCode.Unimplemented },
        { ErrorKind.Aborted, StatusCode.Aborted },
        { ErrorKind.Unavailable, StatusCode.Unavailable },
        { ErrorKind.DeadlineExceeded, StatusCode.DeadlineExceeded },
        { ErrorKind.Internal, StatusCode.Internal },
    };

    [Theory]
    [MemberData(nameof(KindRows))]
    public void Core_kind_maps_to_its_status_keeping_reason_field_and_metadata(ErrorKind kind, StatusCode code)
    {
        var core = new CoreException(kind, "SOME_REASON", "what happened", "guest_memfd_id", new Dictionary<string, string> { ["oldest_sequence"] = "7" });
        var e = ErrorTable.TryMap(core)!;
        var status = e.GetRpcStatus()!;
        var info = status.GetDetail<ErrorInfo>();

        Assert.Equal((code, "what happened"), (e.StatusCode, status.Message));
        Assert.Equal(("SOME_REASON", "memsvc", "7"), (info.Reason, info.Domain, info.Metadata["oldest_sequence"]));
        Assert.Equal("guest_memfd", status.GetDetail<BadRequest>().FieldViolations.Single().Field);
    }

    [Fact]
    public void Every_Core_kind_has_a_row() =>
        Assert.Equal(Enum.GetValues<ErrorKind>().Length, KindRows.Count);

    [Fact]
    public void An_exception_that_is_not_ours_is_not_described()
    {
        Assert.Null(ErrorTable.TryMap(new InvalidOperationException("secret /etc/path")));
        var status = ErrorTable.Internal().GetRpcStatus()!;

        Assert.Equal((int)StatusCode.Internal, status.Code);
        Assert.DoesNotContain("secret", status.Message, StringComparison.Ordinal);
        Assert.Equal("INTERNAL", status.GetDetail<ErrorInfo>().Reason);
    }

    [Fact]
    public void Kernel_arguments_map_to_request_fields()
    {
        Assert.Equal("gpa", ErrorTable.FieldOf("guest_phys_addr"));
        Assert.Equal("shared_backing", ErrorTable.FieldOf("userspace_addr"));
        Assert.Equal("size", ErrorTable.FieldOf("len"));
        Assert.Equal("gpa", ErrorTable.FieldOf("address"));
        Assert.Null(ErrorTable.FieldOf("id"));
    }
}
