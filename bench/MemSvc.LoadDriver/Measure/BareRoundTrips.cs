using System.Diagnostics;
using Google.Protobuf;
using Grpc.Net.Client;
using MemSvc.LoadDriver.Baseline;

namespace MemSvc.LoadDriver.Measure;

/// <summary>
/// The baseline of a remote resolution: two sequential bare unary echoes of a message of the event's size on the
/// same Kestrel, timed by the client's Stopwatch (a fault reaches its watcher, the watcher calls back). Each echo
/// is also kept alone: the baseline of one ResolveFault call.
/// </summary>
internal static class BareRoundTrips
{
    public static async Task<(Samples Pairs, Samples Singles)> MeasureAsync(GrpcChannel channel, int size, int samples, int warmup)
    {
        var client = new BaselineService.BaselineServiceClient(channel);
        var message = new EchoMessage { Payload = ByteString.CopyFrom(new byte[Math.Max(0, size - 3)]) };
        var pairs = new Samples();
        var singles = new Samples();
        for (var i = 0; i < samples + warmup; i++)
        {
            var start = Stopwatch.GetTimestamp();
            await client.EchoAsync(message);
            var middle = Stopwatch.GetTimestamp();
            await client.EchoAsync(message);
            var end = Stopwatch.GetTimestamp();
            if (i >= warmup)
            {
                pairs.AddElapsed(start, end);
                singles.AddElapsed(start, middle);
                singles.AddElapsed(middle, end);
            }
        }

        return (pairs, singles);
    }
}
