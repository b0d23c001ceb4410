using Google.Protobuf;
using Grpc.Core;
using MemSvc.LoadDriver.Baseline;

namespace MemSvc.LoadDriver.Hosting;

/// <summary>
/// The bare service: no VMM, no journal, no mapping. What grpc-dotnet itself costs for a message of a given
/// size, so that MemSvc's own share of each figure can be read off the ratio.
/// </summary>
internal sealed class BaselineGrpcService : BaselineService.BaselineServiceBase
{
    public override Task<EchoMessage> Echo(EchoMessage request, ServerCallContext context) => Task.FromResult(request);

    public override async Task Stream(StreamRequest request, IServerStreamWriter<StreamMessage> responseStream, ServerCallContext context)
    {
        // One payload for the whole stream, as MemSvc's events are built once each: the cost measured is the write.
        var payload = ByteString.CopyFrom(new byte[Math.Max(0, request.Size)]);
        var interval = TimeSpan.FromMicroseconds(request.IntervalMicros);
        for (var i = 0; i < request.Count; i++)
        {
            if (request.IntervalMicros > 0)
            {
                await Task.Delay(interval, context.CancellationToken).ConfigureAwait(false);
            }

            var message = new StreamMessage { SentTicks = DateTime.UtcNow.Ticks, Payload = payload };
            await responseStream.WriteAsync(message, context.CancellationToken).ConfigureAwait(false);
        }
    }
}
