using MemSvc.Contracts.V1;

namespace MemSvc.Server.Errors;

/// <summary>
/// The ErrorInfo reasons the server adds to Core's (<see cref="Core.Errors.ErrorReasons"/>), taken from the
/// contract's <see cref="ErrorReason"/> enum: a reason it does not define cannot be written here.
/// </summary>
internal static class ServerReasons
{
    public static readonly string Internal = ErrorReasonNames.Of(ErrorReason.Internal);
    public static readonly string RateLimited = ErrorReasonNames.Of(ErrorReason.RateLimited);
    public static readonly string ConnectionLimit = ErrorReasonNames.Of(ErrorReason.ConnectionLimit);
    public static readonly string MessageTooLarge = ErrorReasonNames.Of(ErrorReason.MessageTooLarge);
    public static readonly string MalformedRequest = ErrorReasonNames.Of(ErrorReason.MalformedRequest);
    public static readonly string FieldRequired = ErrorReasonNames.Of(ErrorReason.FieldRequired);
    public static readonly string InvalidEnumValue = ErrorReasonNames.Of(ErrorReason.InvalidEnumValue);
    public static readonly string DuplicateValue = ErrorReasonNames.Of(ErrorReason.DuplicateValue);
    public static readonly string ValueOutOfRange = ErrorReasonNames.Of(ErrorReason.ValueOutOfRange);
    public static readonly string RangeOverflow = ErrorReasonNames.Of(ErrorReason.RangeOverflow);
    public static readonly string InvalidName = ErrorReasonNames.Of(ErrorReason.InvalidName);
    public static readonly string RequestIdReused = ErrorReasonNames.Of(ErrorReason.RequestIdReused);
    public static readonly string InvalidPageSize = ErrorReasonNames.Of(ErrorReason.InvalidPageSize);
    public static readonly string InvalidPageToken = ErrorReasonNames.Of(ErrorReason.InvalidPageToken);
    public static readonly string HandoffInProgress = ErrorReasonNames.Of(ErrorReason.HandoffInProgress);
    public static readonly string GuestMemfdOfOtherVm = ErrorReasonNames.Of(ErrorReason.GuestMemfdOfOtherVm);
    public static readonly string UnknownMethod = ErrorReasonNames.Of(ErrorReason.UnknownMethod);
    public static readonly string UnknownService = ErrorReasonNames.Of(ErrorReason.UnknownService);

    /// <summary>A kernel refusal the error table has no precise reason for; metadata errno and operation say which.</summary>
    public static readonly string KernelError = ErrorReasonNames.Of(ErrorReason.KernelError);
}
