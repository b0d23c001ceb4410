using System.Diagnostics;

namespace MemSvc.Core.Telemetry;

/// <summary>
/// Spans around backend operations, conversions and fault resolutions. The server's RPC spans become their
/// parents through Activity.Current; without a listener StartActivity returns null and costs nothing.
/// </summary>
public static class CoreActivities
{
    public const string SourceName = "MemSvc.Core";

    /// <summary>The Meter's name, public so that a host can subscribe to it without reaching into Core's metrics.</summary>
    public const string MeterName = CoreMetrics.MeterName;

    public static ActivitySource Source { get; } = new(SourceName);

    internal static Activity? Start(string name, string vmId)
    {
        // A rehearsal's scratch VMs leave no trace (HandoffRehearsal); its flag is read only when someone listens, so
        // the fault path without tracing pays nothing for it.
        var activity = Source.HasListeners() && !Rehearsal.On ? Source.StartActivity(name, ActivityKind.Internal) : null;
        activity?.SetTag("vm", vmId);
        return activity;
    }

    internal static Activity? Start(string name, string vmId, ulong gpa, ulong size)
    {
        var activity = Start(name, vmId);
        if (activity is not null)
        {
            activity.SetTag("gpa", gpa);
            activity.SetTag("size", size);
        }

        return activity;
    }

    /// <summary>Marks the span failed with the exception's message; the exception itself still propagates.</summary>
    internal static void Fail(Activity? activity, Exception exception)
    {
        activity?.SetStatus(ActivityStatusCode.Error, exception.Message);
    }
}
