using System.Buffers.Binary;
using MemSvc.Server.Handoff;

namespace MemSvc.Server.Tests.Hosting;

/// <summary>The handoff frames' bounds: a first frame is refused on its header when it claims more than a hello needs.</summary>
public sealed class HandoffFramesTests
{
    [Fact]
    public void A_hello_claiming_more_than_MaxHelloBytes_is_refused_on_its_header_before_its_payload_is_read()
    {
        var frame = new byte[9 + 64];
        frame[0] = (byte)'H';
        BinaryPrimitives.WriteInt64LittleEndian(frame.AsSpan(1), HandoffFrames.MaxHelloBytes + 1);
        using var stream = new MemoryStream(frame);

        var error = Assert.Throws<InvalidDataException>(() => HandoffFrames.Read(stream, HandoffFrames.MaxHelloBytes));

        Assert.Contains($"at most {HandoffFrames.MaxHelloBytes}", error.Message, StringComparison.Ordinal);
        Assert.Equal(9, stream.Position);
    }

    [Fact]
    public void A_hello_within_the_bound_reads_its_version()
    {
        using var stream = new MemoryStream();
        HandoffFrames.Write(stream, HandoffFrameType.Hello, HandoffFrames.Hello(7));
        stream.Position = 0;

        var (type, payload) = HandoffFrames.Read(stream, HandoffFrames.MaxHelloBytes);

        Assert.Equal((HandoffFrameType.Hello, 7), (type, HandoffFrames.ReadHello(payload)));
    }
}
