using System.Collections.Concurrent;
using System.Threading.Channels;
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
    // Services are created per call: triggered streams are found by name across calls.
    private static readonly ConcurrentDictionary<string, Channel<long>> Triggers = new(StringComparer.Ordinal);

    public override Task<EchoMessage> Echo(EchoMessage request, ServerCallContext context) => Task.FromResult(request);

    public override Task<KickResponse> Kick(KickRequest request, ServerCallContext context)
    {
        if (!Triggers.TryGetValue(request.Trigger, out var trigger))
        {
            throw new RpcException(new Status(StatusCode.NotFound, $"no stream waits on trigger '{request.Trigger}'"));
        }

        trigger.Writer.TryWrite(DateTime.UtcNow.Ticks);
        return Task.FromResult(new KickResponse());
    }

    public override async Task Stream(StreamRequest request, IServerStreamWriter<StreamMessage> responseStream, ServerCallContext context)
    {
        // One payload for the whole stream, as MemSvc's events are built once each: the cost measured is the write.
        var payload = ByteString.CopyFrom(new byte[Math.Max(0, request.Size)]);
        if (request.Trigger.Length > 0)
        {
            await TriggeredAsync(request, payload, responseStream, context.CancellationToken).ConfigureAwait(false);
            return;
        }

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

    private static async Task TriggeredAsync(StreamRequest request, ByteString payload, IServerStreamWriter<StreamMessage> responseStream, CancellationToken cancellationToken)
    {
        var trigger = Channel.CreateUnbounded<long>(new UnboundedChannelOptions { SingleReader = true });
        if (!Triggers.TryAdd(request.Trigger, trigger))
        {
            throw new RpcException(new Status(StatusCode.AlreadyExists, $"trigger '{request.Trigger}' is taken"));
        }

        try
        {
            await responseStream.WriteAsync(new StreamMessage { Payload = payload }, cancellationToken).ConfigureAwait(false);
            for (var i = 0; i < request.Count; i++)
            {
                var stamp = await trigger.Reader.ReadAsync(cancellationToken).ConfigureAwait(false);
                await responseStream.WriteAsync(new StreamMessage { SentTicks = stamp, Payload = payload }, cancellationToken).ConfigureAwait(false);
            }
        }
        finally
        {
            Triggers.TryRemove(request.Trigger, out _);
        }
    }
}
