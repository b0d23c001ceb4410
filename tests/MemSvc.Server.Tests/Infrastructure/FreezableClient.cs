using System.Net.Sockets;
using Grpc.Net.Client;

namespace MemSvc.Server.Tests.Infrastructure;

/// <summary>
/// A gRPC client that can be frozen, as a SIGSTOPped process or a partitioned host is: from <see cref="Freeze"/> on,
/// it neither reads nor writes, so it answers no PING and sends no FIN, while its socket stays open.
/// </summary>
public sealed class FreezableClient : IDisposable
{
    private readonly TaskCompletionSource _frozen = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _dead = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public FreezableClient(Uri loopback)
    {
        var handler = new SocketsHttpHandler
        {
            ConnectCallback = async (context, cancellationToken) =>
            {
                var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                await socket.ConnectAsync(context.DnsEndPoint.Host, context.DnsEndPoint.Port, cancellationToken);
                return new FreezableStream(new NetworkStream(socket, ownsSocket: true), this);
            },
        };
        Channel = GrpcChannel.ForAddress(loopback, new GrpcChannelOptions { HttpHandler = handler, DisposeHttpClient = true });
    }

    public GrpcChannel Channel { get; }

    public void Freeze() => _frozen.TrySetResult();

    public void Dispose()
    {
        _dead.TrySetResult();
        Channel.Dispose();
    }

    private sealed class FreezableStream(NetworkStream inner, FreezableClient client) : Stream
    {
        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            await StayFrozenAsync(cancellationToken);
            return await inner.ReadAsync(buffer, cancellationToken);
        }

        public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            await StayFrozenAsync(cancellationToken);
            await inner.WriteAsync(buffer, cancellationToken);
        }

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override Task FlushAsync(CancellationToken cancellationToken) => inner.FlushAsync(cancellationToken);

        public override void Flush() => inner.Flush();

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                inner.Dispose();
            }

            base.Dispose(disposing);
        }

        // Frozen: wait until the client is disposed (then fail, as a killed process's socket does), never thaw.
        private async Task StayFrozenAsync(CancellationToken cancellationToken)
        {
            if (!client._frozen.Task.IsCompleted)
            {
                return;
            }

            await client._dead.Task.WaitAsync(cancellationToken);
            throw new IOException("the frozen client was disposed");
        }
    }
}
