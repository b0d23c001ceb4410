using Grpc.Core;
using MemSvc.Contracts.V1;

namespace MemSvc.Client.Errors;

/// <summary>
/// A call MemSvc refused or could not complete: the gRPC status, plus the google.rpc.ErrorInfo reason (the stable
/// UPPER_SNAKE word to branch on), its metadata (such as <c>errno</c>) and the BadRequest fields at fault.
/// </summary>
public class MemSvcException : Exception
{
    /// <summary>An UNKNOWN error without detail (for serialisers and mocks).</summary>
    public MemSvcException()
        : this(StatusCode.Unknown, "unknown error", null, null, new Dictionary<string, string>(), [], null)
    {
    }

    /// <summary>An UNKNOWN error with <paramref name="message"/>.</summary>
    public MemSvcException(string message)
        : this(StatusCode.Unknown, message, null, null, new Dictionary<string, string>(), [], null)
    {
    }

    /// <summary>An UNKNOWN error with <paramref name="message"/>, caused by <paramref name="innerException"/>.</summary>
    public MemSvcException(string message, Exception innerException)
        : this(StatusCode.Unknown, message, null, null, new Dictionary<string, string>(), [], innerException)
    {
    }

    /// <summary>The error a call ended with, as the server described it.</summary>
    /// <param name="statusCode">The gRPC status.</param>
    /// <param name="detail">The status message.</param>
    /// <param name="reason">The ErrorInfo reason, or null when the status carried none.</param>
    /// <param name="domain">The ErrorInfo domain.</param>
    /// <param name="metadata">The ErrorInfo metadata.</param>
    /// <param name="fieldViolations">The BadRequest fields at fault.</param>
    /// <param name="innerException">The RpcException, or another cause.</param>
    public MemSvcException(
        StatusCode statusCode,
        string detail,
        string? reason,
        string? domain,
        IReadOnlyDictionary<string, string> metadata,
        IReadOnlyList<FieldViolation> fieldViolations,
        Exception? innerException)
        : base(Describe(statusCode, detail, reason, fieldViolations), innerException)
    {
        StatusCode = statusCode;
        Detail = detail;
        Reason = reason;
        Domain = domain;
        Metadata = metadata;
        FieldViolations = fieldViolations;
    }

    /// <summary>The gRPC status code.</summary>
    public StatusCode StatusCode { get; }

    /// <summary>The server's message, without the status and reason that <see cref="Exception.Message"/> adds.</summary>
    public string Detail { get; }

    /// <summary>ErrorInfo.reason, such as <c>VM_NOT_FOUND</c>; null when the status carried no ErrorInfo.</summary>
    public string? Reason { get; }

    /// <summary>
    /// <see cref="Reason"/> as the contract's enum (protos/memsvc/v1/error_reason.proto documents each value's status
    /// code and metadata), to switch on; <see cref="ErrorReason.Unspecified"/> when the status carried no ErrorInfo or
    /// a reason this SDK does not know (a newer server's): decide by <see cref="StatusCode"/> then.
    /// </summary>
    public ErrorReason ErrorReason => ErrorReasonNames.Parse(Reason);

    /// <summary>ErrorInfo.domain (<c>memsvc</c> for the server's own errors).</summary>
    public string? Domain { get; }

    /// <summary>ErrorInfo.metadata, such as <c>errno</c>, <c>operation</c> or <c>oldest_sequence</c>.</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; }

    /// <summary>Every BadRequest field violation, in the server's order.</summary>
    public IReadOnlyList<FieldViolation> FieldViolations { get; }

    /// <summary>The first field at fault, or null.</summary>
    public string? Field => FieldViolations.Count > 0 ? FieldViolations[0].Field : null;

    /// <summary>A metadata value read as an unsigned number, or null when absent or not a number.</summary>
    public ulong? MetadataNumber(string key) =>
        Metadata.TryGetValue(key, out var text) && ulong.TryParse(text, System.Globalization.CultureInfo.InvariantCulture, out var value)
            ? value
            : null;

    private static string Describe(StatusCode code, string detail, string? reason, IReadOnlyList<FieldViolation> fields)
    {
        var text = reason is null ? $"{code}: {detail}" : $"{code} ({reason}): {detail}";
        return fields.Count == 0 ? text : $"{text} [field {string.Join(", ", fields.Select(f => f.Field))}]";
    }
}
