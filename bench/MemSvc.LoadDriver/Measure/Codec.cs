using System.Diagnostics;
using Google.Protobuf;

namespace MemSvc.LoadDriver.Measure;

/// <summary>
/// What protobuf encoding and decoding of one message costs in this process (nanoseconds for both), to split a
/// stream's per-message cost into codec and the rest when a message shape differs from its baseline's.
/// </summary>
internal static class Codec
{
    public static double RoundTripNanos<T>(T message, MessageParser<T> parser, int count = 200_000)
        where T : IMessage<T>
    {
        var buffer = new byte[message.CalculateSize()];
        for (var i = 0; i < 1_000; i++)
        {
            message.WriteTo(buffer);
            parser.ParseFrom(buffer);
        }

        var start = Stopwatch.GetTimestamp();
        for (var i = 0; i < count; i++)
        {
            message.WriteTo(buffer);
            parser.ParseFrom(buffer);
        }

        return Stopwatch.GetElapsedTime(start).TotalNanoseconds / count;
    }
}
