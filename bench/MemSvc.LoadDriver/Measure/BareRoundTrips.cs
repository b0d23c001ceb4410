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
internal sealed class BareRoundTrips(GrpcChannel channel, int size)
{
    private readonly BaselineService.BaselineServiceClient _client = new(channel);
    private readonly EchoMessage _message = new() { Payload = ByteString.CopyFrom(new byte[Math.Max(0, size - 3)]) };

    public Samples Pairs { get; } = new();

    public Samples Singles { get; } = new();

    public async Task RunAsync(int pairs, bool record)
    {
        for (var i = 0; i < pairs; i++)
        {
            var start = Stopwatch.GetTimestamp();
            await _client.EchoAsync(_message);
            var middle = Stopwatch.GetTimestamp();
            await _client.EchoAsync(_message);
            var end = Stopwatch.GetTimestamp();
            if (record)
            {
                Pairs.AddElapsed(start, end);
                Singles.AddElapsed(start, middle);
                Singles.AddElapsed(middle, end);
            }
        }
    }
}
