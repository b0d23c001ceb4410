using System.Collections.Frozen;

namespace MemSvc.Contracts.V1;

/// <summary>
/// The wire names of <see cref="ErrorReason"/> (google.rpc.ErrorInfo.reason is the proto value's name, such as
/// <c>VM_NOT_FOUND</c>), read from the generated descriptor so that no second spelling of a reason exists.
/// </summary>
public static class ErrorReasonNames
{
    private static readonly FrozenDictionary<ErrorReason, string> Names =
        ErrorReasonReflection.Descriptor.EnumTypes.Single(e => e.ClrType == typeof(ErrorReason)).Values
            .ToFrozenDictionary(v => (ErrorReason)v.Number, v => v.Name);

    private static readonly FrozenDictionary<string, ErrorReason> Values =
        Names.ToFrozenDictionary(p => p.Value, p => p.Key, StringComparer.Ordinal);

    /// <summary>Every reason the contract defines, ERROR_REASON_UNSPECIFIED (never sent) excepted.</summary>
    public static IReadOnlyCollection<ErrorReason> All { get; } =
        [.. Names.Keys.Where(r => r != ErrorReason.Unspecified).Order()];

    /// <summary>The string a server puts in ErrorInfo.reason for <paramref name="reason"/>.</summary>
    public static string Of(ErrorReason reason) =>
        Names.TryGetValue(reason, out var name) ? name : throw new ArgumentOutOfRangeException(nameof(reason), reason, "not a value of memsvc.v1.ErrorReason");

    /// <summary>
    /// The value an ErrorInfo.reason names; <see cref="ErrorReason.Unspecified"/> for null or for a name this
    /// contract does not know (a newer server's), which a client handles by its status code.
    /// </summary>
    public static ErrorReason Parse(string? reason) =>
        reason is not null && Values.TryGetValue(reason, out var value) ? value : ErrorReason.Unspecified;
}
