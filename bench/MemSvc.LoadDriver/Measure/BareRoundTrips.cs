using System.Diagnostics;
using Google.Protobuf;
using Grpc.Net.Client;
using MemSvc.LoadDriver.Baseline;

namespace MemSvc.LoadDriver.Measure;

/// <summary>
/// The baseline of a remote resolution: two sequential bare unary echoes of a message of the event's size on the
/// same Kestrel, timed by the client's Stopwatch (a fault reaches its watcher, the watcher calls back).
/// </summary>
internal static class BareRoundTrips
{
    public static async Task<Samples> MeasureAsync(GrpcChannel channel, int size, int samples, int warmup)
    {
        var client = new BaselineService.BaselineServiceClient(channel);
        var message = new EchoMessage { Payload = ByteString.CopyFrom(new byte[Math.Max(0, size - 3)]) };
        var measured = new Samples();
        for (var i = 0; i < samples + warmup; i++)
        {
            var start = Stopwatch.GetTimestamp();
            await client.EchoAsync(message);
            await client.EchoAsync(message);
            if (i >= warmup)
            {
                measured.AddElapsed(start, Stopwatch.GetTimestamp());
            }
        }

        return measured;
    }
}
