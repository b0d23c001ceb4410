using System.Globalization;

namespace MemSvc.Core.Errors;

/// <summary>
/// A VMM operation was refused or failed, before any state changed. <see cref="Reason"/> is a stable
/// UPPER_SNAKE code clients can branch on (VM_NOT_FOUND, SEQUENCE_COMPACTED...); <see cref="Field"/> names the
/// request field at fault, in the API's snake_case, when there is one.
/// </summary>
public sealed class CoreException : Exception
{
    public CoreException(ErrorKind kind, string reason, string message, string? field = null, IReadOnlyDictionary<string, string>? metadata = null)
        : base(message)
    {
        Kind = kind;
        Reason = reason;
        Field = field;
        Metadata = metadata ?? new Dictionary<string, string>();
    }

    public CoreException()
        : this(ErrorKind.Internal, ErrorReasons.Internal, "internal error")
    {
    }

    public CoreException(string message)
        : this(ErrorKind.Internal, ErrorReasons.Internal, message)
    {
    }

    public CoreException(string message, Exception innerException)
        : base(message, innerException)
    {
        Kind = ErrorKind.Internal;
        Reason = ErrorReasons.Internal;
        Metadata = new Dictionary<string, string>();
    }

    public ErrorKind Kind { get; }

    /// <summary>Stable UPPER_SNAKE reason (google.rpc.ErrorInfo.reason).</summary>
    public string Reason { get; }

    /// <summary>The request field at fault (google.rpc.BadRequest.FieldViolation.field), or null.</summary>
    public string? Field { get; }

    /// <summary>Facts a client needs to recover, e.g. oldest_sequence for a compacted watch (ErrorInfo.metadata).</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; }

    public static CoreException InvalidArgument(string reason, string field, string message) =>
        new(ErrorKind.InvalidArgument, reason, message, field);

    public static CoreException NotFound(string reason, string message, string? field = null) =>
        new(ErrorKind.NotFound, reason, message, field);

    /// <summary>
    /// RESOURCE_EXHAUSTED QUOTA_EXCEEDED with metadata quota (the snake_case name of the <see cref="Options.QuotaOptions"/>
    /// property), limit and requested (what the call would have needed): one shape for every quota, whichever layer enforces it.
    /// </summary>
    public static CoreException QuotaExceeded(string quota, ulong limit, ulong requested) =>
        new(
            ErrorKind.ResourceExhausted,
            ErrorReasons.QuotaExceeded,
            $"quota {quota} is {limit}; this call would need {requested}",
            null,
            new Dictionary<string, string>
            {
                ["quota"] = quota,
                ["limit"] = limit.ToString(CultureInfo.InvariantCulture),
                ["requested"] = requested.ToString(CultureInfo.InvariantCulture),
            });

    public static CoreException FailedPrecondition(string reason, string message, string? field = null) =>
        new(ErrorKind.FailedPrecondition, reason, message, field);
}
