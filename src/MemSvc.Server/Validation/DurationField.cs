using MemSvc.Core.Errors;
using Duration = Google.Protobuf.WellKnownTypes.Duration;

namespace MemSvc.Server.Validation;

/// <summary>A google.protobuf.Duration request field as a TimeSpan; unset is zero (Core's "use the default").</summary>
internal static class DurationField
{
    public static TimeSpan ToTimeSpan(Duration? duration, string field)
    {
        if (duration is null)
        {
            return TimeSpan.Zero;
        }

        // Positive and well formed (nanos under one second), so that ToTimeSpan cannot throw or overflow.
        var valid = duration.Seconds is >= 0 and <= Duration.MaxSeconds
            && duration.Nanos is >= 0 and < Duration.NanosecondsPerSecond
            && (duration.Seconds > 0 || duration.Nanos > 0);
        return valid
            ? duration.ToTimeSpan()
            : throw CoreException.InvalidArgument(Require.ValueOutOfRange, field, $"{field} must be a positive duration");
    }
}
