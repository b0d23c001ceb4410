using Grpc.Core;
using Grpc.Net.Client;
using MemSvc.LoadDriver.Baseline;

namespace MemSvc.LoadDriver.Measure;

/// <summary>
/// The baseline of an event's delivery: each message is triggered by a unary Kick and stamped when the Kick arrives,
/// then sent by the waiting stream: the shape of a fault event, which follows the previous ResolveFault and meets
/// an idle stream. One stream serves every round, as one watch serves MemSvc's.
/// </summary>
internal sealed class TriggeredStream : IDisposable
{
    private const string Trigger = "delivery";

    private readonly BaselineService.BaselineServiceClient _client;
    private readonly AsyncServerStreamingCall<StreamMessage> _call;
    private readonly KickRequest _kick = new() { Trigger = Trigger };

    private TriggeredStream(BaselineService.BaselineServiceClient client, AsyncServerStreamingCall<StreamMessage> call)
    {
        _client = client;
        _call = call;
    }

    public Samples Deliver { get; } = new();

    /// <param name="size">The size of MemSvc's fault event, in bytes: the stream's messages are as large.</param>
    public static async Task<TriggeredStream> StartAsync(GrpcChannel channel, int size)
    {
        var client = new BaselineService.BaselineServiceClient(channel);
        // As many messages as the rounds will ask for: the call is disposed, not run to its end.
        var call = client.Stream(new StreamRequest { Count = int.MaxValue, Size = Math.Max(0, size - 14), Trigger = Trigger });
        if (!await call.ResponseStream.MoveNext(CancellationToken.None).ConfigureAwait(false))
        {
            call.Dispose();
            throw new InvalidOperationException("the triggered stream ended before it was ready");
        }

        return new TriggeredStream(client, call);
    }

    public async Task RunAsync(int messages, bool record)
    {
        for (var i = 0; i < messages; i++)
        {
            await _client.KickAsync(_kick);
            if (!await _call.ResponseStream.MoveNext(CancellationToken.None).ConfigureAwait(false))
            {
                throw new InvalidOperationException($"the triggered stream ended after {i} messages");
            }

            var received = DateTime.UtcNow.Ticks;
            if (record)
            {
                Deliver.Add((received - _call.ResponseStream.Current.SentTicks) / 10.0);
            }
        }
    }

    public void Dispose() => _call.Dispose();
}
