using MemSvc.Core.Errors;
using MemSvc.Server.Errors;

namespace MemSvc.Server.Validation;

/// <summary>
/// Checks on request fields, made before anything is touched; each failure is INVALID_ARGUMENT naming the field,
/// so that a refused call changes nothing.
/// </summary>
internal static class Require
{
    /// <summary>A value of <typeparamref name="TEnum"/> that the contract defines, and not its _UNSPECIFIED zero.</summary>
    public static TEnum Specified<TEnum>(TEnum value, string field)
        where TEnum : struct, Enum
    {
        Known(value, field);
        return Convert.ToInt32(value, System.Globalization.CultureInfo.InvariantCulture) == 0
            ? throw CoreException.InvalidArgument(ServerReasons.FieldRequired, field, $"{field} must be set")
            : value;
    }

    /// <summary>A value the contract defines; _UNSPECIFIED allowed (the server's default applies).</summary>
    public static TEnum Known<TEnum>(TEnum value, string field)
        where TEnum : struct, Enum =>
        Enum.IsDefined(value)
            ? value
            : throw CoreException.InvalidArgument(ServerReasons.InvalidEnumValue, field, $"{field} has no value {value}");

    /// <summary>Repeated enum values: each defined, none _UNSPECIFIED, none twice.</summary>
    public static IReadOnlyList<TEnum> DistinctSpecified<TEnum>(IEnumerable<TEnum> values, string field)
        where TEnum : struct, Enum
    {
        var seen = new List<TEnum>();
        foreach (var value in values)
        {
            if (Convert.ToInt32(Known(value, field), System.Globalization.CultureInfo.InvariantCulture) == 0)
            {
                throw CoreException.InvalidArgument(ServerReasons.InvalidEnumValue, field, $"{field} must not list {ContractNames.Of(value)}");
            }

            if (seen.Contains(value))
            {
                throw CoreException.InvalidArgument(ServerReasons.DuplicateValue, field, $"{field} lists {ContractNames.Of(value)} twice");
            }

            seen.Add(value);
        }

        return seen;
    }

    public static string NonEmpty(string value, string field) =>
        string.IsNullOrEmpty(value) ? throw CoreException.InvalidArgument(ServerReasons.FieldRequired, field, $"{field} is required") : value;

    /// <summary>A range [start, start + size) that is not empty and ends within 2^64.</summary>
    public static void Range(ulong start, ulong size, string startField, string sizeField)
    {
        if (size == 0)
        {
            throw CoreException.InvalidArgument(ServerReasons.FieldRequired, sizeField, $"{sizeField} must be at least 1");
        }

        if (start + size < start)
        {
            throw CoreException.InvalidArgument(ServerReasons.RangeOverflow, sizeField, $"{startField} + {sizeField} overflows 2^64");
        }
    }

    public static ulong Between(ulong value, ulong min, ulong max, string field) =>
        value >= min && value <= max
            ? value
            : throw CoreException.InvalidArgument(ServerReasons.ValueOutOfRange, field, $"{field} must be {min} to {max}, not {value}");
}
