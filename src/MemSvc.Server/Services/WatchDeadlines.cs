using System.Globalization;
using Grpc.Core;

namespace MemSvc.Server.Services;

/// <summary>
/// WatchEvents keeps its deadline itself instead of leaving it to grpc-dotnet. When grpc-dotnet's deadline timer
/// fires it completes the response (trailers) and resets the stream from its own thread, while the handler may be
/// in the middle of a write: the two collide ("Invalid ordering of calling StartAsync or CompleteAsync and
/// Advance", "Can't write the message because the request is complete"), the trailers are lost, and the client
/// sees INTERNAL or UNAVAILABLE instead of DEADLINE_EXCEEDED (13 and 7 of 1,000 watches in the probe). So the
/// grpc-timeout header of a watch is taken off the request before grpc-dotnet reads it, and the handler ends the
/// stream with DEADLINE_EXCEEDED when the time is up, as the only writer of its response. Unary calls keep
/// grpc-dotnet's deadline: their response is written by grpc-dotnet alone.
/// </summary>
internal static class WatchDeadlines
{
    public const string WatchEventsPath = "/memsvc.v1.EventService/WatchEvents";
    private const string TimeoutHeader = "grpc-timeout";
    private static readonly object TimeoutKey = new();

    public static void UseWatchDeadlines(this WebApplication app) =>
        app.Use((context, next) =>
        {
            if (context.Request.Path.Equals(WatchEventsPath, StringComparison.Ordinal)
                && context.Request.Headers.Remove(TimeoutHeader, out var value)
                && TryDecode(value.ToString(), out var timeout))
            {
                context.Items[TimeoutKey] = timeout;
            }

            return next(context);
        });

    /// <summary>How long the watch may run, from when its request arrived; null without a deadline.</summary>
    public static TimeSpan? TimeoutOf(ServerCallContext context) =>
        context.GetHttpContext().Items.TryGetValue(TimeoutKey, out var timeout) ? (TimeSpan)timeout! : null;

    /// <summary>The gRPC wire format: at most 8 digits and a unit (H, M, S, m, u, n). A malformed one means no deadline, as in grpc-dotnet.</summary>
    public static bool TryDecode(string text, out TimeSpan timeout)
    {
        timeout = TimeSpan.Zero;
        if (text.Length is < 2 or > 9 || !long.TryParse(text.AsSpan(0, text.Length - 1), NumberStyles.None, CultureInfo.InvariantCulture, out var amount))
        {
            return false;
        }

        double? ticks = text[^1] switch
        {
            'H' => amount * (double)TimeSpan.TicksPerHour,
            'M' => amount * (double)TimeSpan.TicksPerMinute,
            'S' => amount * (double)TimeSpan.TicksPerSecond,
            'm' => amount * (double)TimeSpan.TicksPerMillisecond,
            'u' => amount * (double)TimeSpan.TicksPerMicrosecond,
            'n' => amount / 100.0,
            _ => null,
        };
        if (ticks is not { } t || t <= 0)
        {
            return false;
        }

        // CancellationTokenSource takes at most int.MaxValue ms (~24.8 days): longer is as good as none.
        timeout = TimeSpan.FromTicks((long)Math.Min(t, TimeSpan.FromMilliseconds(int.MaxValue).Ticks));
        return true;
    }
}
