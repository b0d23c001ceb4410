using System.Diagnostics;
using System.Runtime.CompilerServices;
using Google.Protobuf;

namespace MemSvc.LoadDriver.Measure;

/// <summary>
/// What protobuf encoding and decoding of one message costs in this process (nanoseconds for both), to split a
/// stream's per-message cost into codec and the rest when a message shape differs from its baseline's.
/// </summary>
internal static class Codec
{
    private const int Rounds = 10;

    /// <summary>The best of several rounds, after a warm-up by time.</summary>
    /// <remarks>
    /// A single timed loop measured whatever code the JIT had at the time: one run of this driver printed 324 ns
    /// for the event and the next 1.7 µs, with nothing changed but when in the process it ran. Rounds that are
    /// separate calls pick up optimised code as soon as it exists, and the best round is the codec's own cost.
    /// </remarks>
    public static double RoundTripNanos<T>(T message, MessageParser<T> parser, int count = 200_000)
        where T : IMessage<T>
    {
        var buffer = new byte[message.CalculateSize()];
        var warm = Stopwatch.StartNew();
        while (warm.ElapsedMilliseconds < 500)
        {
            Round(message, parser, buffer, 1_000);
        }

        var best = double.MaxValue;
        for (var round = 0; round < Rounds; round++)
        {
            best = Math.Min(best, Round(message, parser, buffer, count / Rounds));
        }

        return best;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static double Round<T>(T message, MessageParser<T> parser, byte[] buffer, int count)
        where T : IMessage<T>
    {
        var start = Stopwatch.GetTimestamp();
        for (var i = 0; i < count; i++)
        {
            message.WriteTo(buffer);
            parser.ParseFrom(buffer);
        }

        return Stopwatch.GetElapsedTime(start).TotalNanoseconds / count;
    }
}
