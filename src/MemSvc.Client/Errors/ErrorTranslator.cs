using Google.Rpc;
using Grpc.Core;

namespace MemSvc.Client.Errors;

/// <summary>Turns an <see cref="RpcException"/> into a <see cref="MemSvcException"/> from its google.rpc.Status trailer.</summary>
public static class ErrorTranslator
{
    /// <summary>A watch asked to start before the oldest event the VM's journal holds.</summary>
    public const string SequenceCompacted = "SEQUENCE_COMPACTED";
    /// <summary>A watch fell so far behind that the events it needed next were compacted away.</summary>
    public const string WatcherFellBehind = "WATCHER_FELL_BEHIND";
    /// <summary>The call named a VM incarnation (uid) that another VM of the same name has replaced.</summary>
    public const string VmReplaced = "VM_REPLACED";

    /// <summary>The typed exception for <paramref name="exception"/>: <see cref="EventsCompactedException"/>, <see cref="VmReplacedException"/> or <see cref="MemSvcException"/>.</summary>
    public static MemSvcException Translate(RpcException exception)
    {
        ArgumentNullException.ThrowIfNull(exception);
        string? reason = null;
        string? domain = null;
        var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
        var fields = new List<FieldViolation>();
        var detail = exception.Status.Detail;

        // A status from a proxy or from the transport has no details; the plain status is all there is then.
        var status = exception.GetRpcStatus();
        if (status is not null)
        {
            detail = status.Message;
            if (status.GetDetail<ErrorInfo>() is { } info)
            {
                reason = info.Reason;
                domain = info.Domain;
                foreach (var (key, value) in info.Metadata)
                {
                    metadata[key] = value;
                }
            }

            if (status.GetDetail<BadRequest>() is { } badRequest)
            {
                fields.AddRange(badRequest.FieldViolations.Select(v => new FieldViolation(v.Field, v.Description)));
            }
        }

        var error = new MemSvcException(exception.StatusCode, detail, reason, domain, metadata, fields, exception);
        if (exception.StatusCode == StatusCode.OutOfRange && reason is SequenceCompacted or WatcherFellBehind)
        {
            return new EventsCompactedException(error, error.MetadataNumber("oldest_sequence"), error.MetadataNumber("next_sequence"));
        }

        if (exception.StatusCode == StatusCode.FailedPrecondition && reason == VmReplaced)
        {
            return new VmReplacedException(error);
        }

        return error;
    }
}
