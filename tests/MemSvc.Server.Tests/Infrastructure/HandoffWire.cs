using System.Buffers.Binary;
using System.Net.Sockets;
using System.Text;

namespace MemSvc.Server.Tests.Infrastructure;

/// <summary>
/// The handoff protocol's frames written by hand (a type byte, an 8-byte little-endian length, the payload), so that
/// a test can play either side, as a process of another build would: the wire is the contract between two versions.
/// </summary>
public static class HandoffWire
{
    public const byte Hello = (byte)'H';
    public const byte Refused = (byte)'R';
    public const byte State = (byte)'S';

    /// <summary>From version 3, before <see cref="State"/>: the journals copied while the VMs run; answered <see cref="Copied"/>.</summary>
    public const byte Journals = (byte)'J';
    public const byte Copied = (byte)'K';
    public const byte RequestIds = (byte)'Q';

    /// <summary>After <see cref="RequestIds"/>: how many descriptors ride the frame (SCM_RIGHTS; int32) and whether it is the last (a byte).</summary>
    public const byte Descriptors = (byte)'D';
    public const byte Failed = (byte)'F';
    public const byte Adopted = (byte)'A';

    /// <summary>After <see cref="Adopted"/>, from version 3: the old process has let go of the journal directory and exits.</summary>
    public const byte Released = (byte)'L';

    /// <summary>
    /// A handoff socket where a server on <c>memsvc.sock</c> in <paramref name="directory"/> would listen, for a test
    /// that plays the old process (as one of another build would answer).
    /// </summary>
    public static Socket ListenAsOldServer(string directory)
    {
        var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        listener.Bind(new UnixDomainSocketEndPoint(Path.Combine(directory, "memsvc.sock.handoff")));
        listener.Listen(1);
        return listener;
    }

    public static Socket Connect(string path)
    {
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        socket.Connect(new UnixDomainSocketEndPoint(path));
        return socket;
    }

    public static byte[] HelloPayload(int version)
    {
        var payload = new byte[18];
        "memsvc-handoff"u8.CopyTo(payload);
        BinaryPrimitives.WriteInt32LittleEndian(payload.AsSpan(14), version);
        return payload;
    }

    /// <summary>Connects once the server listens there (it binds its handoff socket just after it starts serving).</summary>
    public static async Task<Socket> ConnectWhenListeningAsync(string path)
    {
        using var patience = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        patience.CancelAfter(Watcher.Patience);
        while (true)
        {
            try
            {
                return Connect(path);
            }
            catch (SocketException)
            {
                await Task.Delay(10, patience.Token);
            }
        }
    }

    public static async Task WriteAsync(Stream stream, byte type, byte[] payload)
    {
        var frame = new byte[9 + payload.Length];
        frame[0] = type;
        BinaryPrimitives.WriteInt64LittleEndian(frame.AsSpan(1), payload.Length);
        payload.CopyTo(frame, 9);
        await stream.WriteAsync(frame, TestContext.Current.CancellationToken);
    }

    public static Task WriteTextAsync(Stream stream, byte type, string text) => WriteAsync(stream, type, Encoding.UTF8.GetBytes(text));

    public static async Task<(byte Type, byte[] Payload)> ReadAsync(Stream stream)
    {
        using var patience = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        patience.CancelAfter(Watcher.Patience);
        var header = new byte[9];
        await stream.ReadExactlyAsync(header, patience.Token);
        var payload = new byte[BinaryPrimitives.ReadInt64LittleEndian(header.AsSpan(1))];
        await stream.ReadExactlyAsync(payload, patience.Token);
        return (header[0], payload);
    }
}
