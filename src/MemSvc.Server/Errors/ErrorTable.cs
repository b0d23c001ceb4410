using Google.Protobuf.WellKnownTypes;
using Google.Rpc;
using Grpc.Core;
using MemSvc.Contracts.V1;
using MemSvc.Core.Errors;
using MemSvc.Hypervisor;
using RpcStatus = Google.Rpc.Status;

namespace MemSvc.Server.Errors;

/// <summary>
/// The one table from failures to gRPC status (like containerd's errdefs): Core's <see cref="CoreException"/>
/// by kind, the backend's <see cref="HypervisorException"/> by the kind and reason Hypervisor gave its errno
/// (<see cref="KernelErrorMeanings"/>). Every status carries a
/// google.rpc.ErrorInfo (UPPER_SNAKE reason, domain "memsvc", metadata) and, when a field is at fault, a
/// google.rpc.BadRequest naming it in the API's snake_case. Every reason is a name of the contract's
/// memsvc.v1.ErrorReason, where each is documented.
/// </summary>
internal static class ErrorTable
{
    public const string Domain = "memsvc";

    private static readonly Dictionary<ErrorKind, StatusCode> KindToCode = new()
    {
        [ErrorKind.InvalidArgument] = StatusCode.InvalidArgument,
        [ErrorKind.NotFound] = StatusCode.NotFound,
        [ErrorKind.AlreadyExists] = StatusCode.AlreadyExists,
        [ErrorKind.FailedPrecondition] = StatusCode.FailedPrecondition,
        [ErrorKind.ResourceExhausted] = StatusCode.ResourceExhausted,
        [ErrorKind.OutOfRange] = StatusCode.OutOfRange,
        [ErrorKind.PermissionDenied] = StatusCode.PermissionDenied,
        [ErrorKind.Unimplemented] = StatusCode.Unimplemented,
        [ErrorKind.Aborted] = StatusCode.Aborted,
        [ErrorKind.Unavailable] = StatusCode.Unavailable,
        [ErrorKind.DeadlineExceeded] = StatusCode.DeadlineExceeded,
        [ErrorKind.Internal] = StatusCode.Internal,
    };

    private static readonly Dictionary<HypervisorErrorKind, StatusCode> HypervisorKindToCode = new()
    {
        [HypervisorErrorKind.InvalidArgument] = StatusCode.InvalidArgument,
        [HypervisorErrorKind.NotFound] = StatusCode.NotFound,
        [HypervisorErrorKind.AlreadyExists] = StatusCode.AlreadyExists,
        [HypervisorErrorKind.FailedPrecondition] = StatusCode.FailedPrecondition,
        [HypervisorErrorKind.ResourceExhausted] = StatusCode.ResourceExhausted,
        [HypervisorErrorKind.OutOfRange] = StatusCode.OutOfRange,
        [HypervisorErrorKind.PermissionDenied] = StatusCode.PermissionDenied,
        [HypervisorErrorKind.Internal] = StatusCode.Internal,
    };

    /// <summary>Kernel struct fields (HypervisorException.Argument) to the API's request fields.</summary>
    private static readonly Dictionary<string, string> KernelFields = new(StringComparer.Ordinal)
    {
        ["guest_phys_addr"] = "gpa",
        ["memory_size"] = "size",
        ["guest_memfd_offset"] = "guest_memfd_offset",
        ["guest_memfd"] = "guest_memfd",
        ["slot"] = "slot",
        ["flags"] = "flags",
        ["userspace_addr"] = "shared_backing",
        ["address"] = "gpa",
        ["size"] = "size",
        ["attributes"] = "attributes",
        ["offset"] = "offset",
        ["len"] = "size",
        ["mode"] = "mode",
        ["type"] = "vm_type",
        ["fd"] = "guest_memfd",
        ["gpa"] = "gpa",
        ["length"] = "size",
    };

    /// <summary>Core's names for what a request names otherwise (Core takes a guest_memfd by id, the API by name).</summary>
    private static readonly Dictionary<string, string> CoreFields = new(StringComparer.Ordinal)
    {
        ["guest_memfd_id"] = "guest_memfd",
    };

    /// <summary>The status an exception becomes; null for one that is not ours to describe (the caller logs it).</summary>
    public static RpcException? TryMap(Exception exception) => exception switch
    {
        RpcException rpc => rpc,
        CoreException core => FromCore(core),
        HypervisorException hypervisor => FromHypervisor(hypervisor),
        _ => null,
    };

    /// <summary>The client's answer for a failure that is a bug or an environment problem: logged, never shown.</summary>
    public static RpcException Internal() =>
        Build(StatusCode.Internal, "internal error; the server log has the details", ServerReasons.Internal, new Dictionary<string, string>(), null, null);

    public static StatusCode CodeOf(ErrorKind kind) => KindToCode.GetValueOrDefault(kind, StatusCode.Internal);

    public static StatusCode CodeOf(HypervisorErrorKind kind) => HypervisorKindToCode.GetValueOrDefault(kind, StatusCode.Internal);

    /// <summary>The request field a kernel argument stands for; null for one no request has (a vCPU id, a pointer).</summary>
    public static string? FieldOf(string? kernelArgument) =>
        kernelArgument is null ? null : KernelFields.GetValueOrDefault(kernelArgument);

    private static RpcException FromCore(CoreException e) =>
        Build(CodeOf(e.Kind), e.Message, e.Reason, e.Metadata, e.Field is null ? null : CoreFields.GetValueOrDefault(e.Field, e.Field), e.Message);

    private static RpcException FromHypervisor(HypervisorException e)
    {
        // What the errno means was decided in Hypervisor; here it is only shown.
        var meaning = e.Meaning;
        var metadata = new Dictionary<string, string>
        {
            ["errno"] = e.Errno.ToString(),
            ["operation"] = e.Operation,
        };
        var message = $"{e.Operation} failed with {e.Errno}: {e.Reason}";
        if (meaning.MissingCapability is { } capability)
        {
            metadata["capability"] = capability;
            message += $" (the backend lacks {capability}: use a kernel whose KVM reports it, or the simulated backend with host profile 'default')";
        }

        return Build(CodeOf(meaning.Kind), message, meaning.Reason, metadata, FieldOf(e.Argument), e.Reason);
    }

    private static RpcException Build(
        StatusCode code, string message, string reason, IReadOnlyDictionary<string, string> metadata, string? field, string? fieldDescription)
    {
        var info = new ErrorInfo { Reason = reason, Domain = Domain };
        foreach (var (key, value) in metadata)
        {
            info.Metadata[key] = value;
        }

        var status = new RpcStatus { Code = (int)code, Message = message };
        status.Details.Add(Any.Pack(info));
        if (field is not null)
        {
            var badRequest = new BadRequest();
            badRequest.FieldViolations.Add(new BadRequest.Types.FieldViolation { Field = field, Description = fieldDescription ?? message });
            status.Details.Add(Any.Pack(badRequest));
        }

        return status.ToRpcException();
    }
}
