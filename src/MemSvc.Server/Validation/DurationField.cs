using MemSvc.Core.Errors;
using MemSvc.Server.Errors;
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
        if (!valid)
        {
            throw CoreException.InvalidArgument(ServerReasons.ValueOutOfRange, field, $"{field} must be a positive duration");
        }

        // TimeSpan counts 100 ns ticks, so anything under 100 ns truncated to zero, which Core reads as "unset, use
        // the default" (1 ns gave the 30 s default). A set duration is at least one tick: it keeps its meaning and is
        // refused like any other under Core's minimum.
        return TimeSpan.FromTicks(Math.Max(1, duration.ToTimeSpan().Ticks));
    }
}
