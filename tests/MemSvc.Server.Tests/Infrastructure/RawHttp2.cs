using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace MemSvc.Server.Tests.Infrastructure;

/// <summary>
/// HTTP/2 by hand, for clients no real library would be: one that resets every stream it opens, one that sends its
/// preface a byte at a time. Frames are written as RFC 9113 lays them out; header blocks use HPACK literals only.
/// </summary>
public sealed class RawHttp2 : IDisposable
{
    public const byte Data = 0x0, Headers = 0x1, RstStream = 0x3, Settings = 0x4, Ping = 0x6, GoAway = 0x7, Continuation = 0x9;
    public const byte EndStream = 0x1, EndHeaders = 0x4, Ack = 0x1;

    private readonly Socket _socket;

    private RawHttp2(Socket socket)
    {
        _socket = socket;
    }

    public static async Task<RawHttp2> ConnectAsync(EndPoint endPoint)
    {
        var socket = endPoint is UnixDomainSocketEndPoint
            ? new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified)
            : new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(endPoint, TestContext.Current.CancellationToken);
        return new RawHttp2(socket);
    }

    public Task SendAsync(ReadOnlyMemory<byte> bytes) => _socket.SendAsync(bytes, TestContext.Current.CancellationToken).AsTask();

    public Task SendFrameAsync(byte type, byte flags, int streamId, ReadOnlySpan<byte> payload) => SendAsync(Frame(type, flags, streamId, payload));


    /// <summary>A gRPC request's HEADERS frame for <paramref name="path"/> ("/memsvc.v1.HostService/GetHostInfo").</summary>
    public static byte[] RequestHeaders(int streamId, string path, bool endStream)
    {
        var block = new List<byte>();
        foreach (var (name, value) in new[]
        {
            (":method", "POST"), (":scheme", "http"), (":path", path), (":authority", "localhost"), ("content-type", "application/grpc"), ("te", "trailers"),
        })
        {
            // Literal header field without indexing, new name (RFC 7541 6.2.2); every length here is under 127.
            block.Add(0);
            block.Add((byte)name.Length);
            block.AddRange(Encoding.ASCII.GetBytes(name));
            block.Add((byte)value.Length);
            block.AddRange(Encoding.ASCII.GetBytes(value));
        }

        return Frame(Headers, (byte)(EndHeaders | (endStream ? EndStream : 0)), streamId, [.. block]);
    }

    public static byte[] Frame(byte type, byte flags, int streamId, ReadOnlySpan<byte> payload)
    {
        var frame = new byte[9 + payload.Length];
        frame[0] = (byte)(payload.Length >> 16);
        frame[1] = (byte)(payload.Length >> 8);
        frame[2] = (byte)payload.Length;
        frame[3] = type;
        frame[4] = flags;
        BinaryPrimitives.WriteInt32BigEndian(frame.AsSpan(5), streamId & int.MaxValue);
        payload.CopyTo(frame.AsSpan(9));
        return frame;
    }

    /// <summary>
    /// Reads frames until the server closes the connection or <paramref name="patience"/> passes. Returns whether it
    /// closed, and the error code of the GOAWAY it sent first, if any.
    /// </summary>
    public async Task<(bool Closed, int? GoAwayError)> ReadUntilClosedAsync(TimeSpan patience)
    {
        using var time = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        time.CancelAfter(patience);
        int? goAway = null;
        var header = new byte[9];
        try
        {
            while (true)
            {
                if (!await ReadExactlyAsync(header, time.Token))
                {
                    return (true, goAway);
                }

                var payload = new byte[(header[0] << 16) | (header[1] << 8) | header[2]];
                if (!await ReadExactlyAsync(payload, time.Token))
                {
                    return (true, goAway);
                }

                if (header[3] == GoAway && payload.Length >= 8)
                {
                    goAway ??= BinaryPrimitives.ReadInt32BigEndian(payload.AsSpan(4));
                }
            }
        }
        catch (SocketException)
        {
            return (true, goAway);
        }
        catch (OperationCanceledException) when (time.IsCancellationRequested && !TestContext.Current.CancellationToken.IsCancellationRequested)
        {
            return (false, goAway);
        }
    }

    public void Dispose() => _socket.Dispose();

    private async Task<bool> ReadExactlyAsync(Memory<byte> buffer, CancellationToken cancellationToken)
    {
        var read = 0;
        while (read < buffer.Length)
        {
            var n = await _socket.ReceiveAsync(buffer[read..], cancellationToken);
            if (n == 0)
            {
                return false;
            }

            read += n;
        }

        return true;
    }
}
