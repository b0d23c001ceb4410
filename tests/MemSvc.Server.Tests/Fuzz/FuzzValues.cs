using System.Text;

namespace MemSvc.Server.Tests.Fuzz;

/// <summary>
/// Field values from a seeded generator: edges (0, 1, page boundaries, maxima), plain random numbers, enum values
/// outside their range, and names that are near misses of real ones, junk, or huge.
/// </summary>
public sealed class FuzzValues(int seed)
{
    private static readonly ulong[] Edges = [0, 1, 4095, 4096, 4097, 1UL << 21, 1UL << 30, 1UL << 40, (1UL << 63) - 1, 1UL << 63, ulong.MaxValue - 4095, ulong.MaxValue];
    private static readonly string[] Stems = ["", "vms/", "vms/p", "vms/q", "vms/d", "vms/nope", "vms/p/vcpus/", "vms/p/guestMemfds/", "vms/p/memoryRegions/", "vms//", "/vms/p", "vms/P", "vms/p/vcpus/1/x"];

    private readonly Random _random = new(seed);

    public ulong U64() => _random.Next(3) switch
    {
        0 => Edges[_random.Next(Edges.Length)],
        1 => (ulong)_random.NextInt64() * (ulong)_random.Next(1, 3),
        _ => (ulong)_random.Next(0, 1 << 16) * 4096,
    };

    public uint U32() => (uint)U64();

    public int I32() => _random.Next(4) == 0 ? int.MinValue + _random.Next(3) : (int)U32();

    public T Enum<T>()
        where T : struct, System.Enum => (T)(object)(_random.Next(3) == 0 ? _random.Next(-5, 20) : _random.Next(0, 4));

    public bool Bool() => _random.Next(2) == 0;

    public string Name() => _random.Next(5) switch
    {
        0 => Junk(_random.Next(0, 40)),
        1 => new string('a', _random.Next(100, 5000)),
        _ => Stems[_random.Next(Stems.Length)] + (_random.Next(3) == 0 ? Junk(_random.Next(0, 6)) : U64().ToString(System.Globalization.CultureInfo.InvariantCulture)),
    };

    public Google.Protobuf.ByteString Bytes() => Google.Protobuf.ByteString.CopyFrom(RandomBytes(_random.Next(4) == 0 ? _random.Next(0, 70_000) : _random.Next(0, 64)));

    public Google.Protobuf.WellKnownTypes.Duration? Duration() => _random.Next(3) == 0
        ? null
        : new Google.Protobuf.WellKnownTypes.Duration { Seconds = (long)U64(), Nanos = I32() };

    public int Count(int max) => _random.Next(max + 1);

    private byte[] RandomBytes(int length)
    {
        var bytes = new byte[length];
        _random.NextBytes(bytes);
        return bytes;
    }

    private string Junk(int length)
    {
        var text = new StringBuilder(length);
        for (var i = 0; i < length; i++)
        {
            // Mostly printable, with control characters, '/' and non-ASCII mixed in.
            text.Append(_random.Next(6) switch
            {
                0 => '/',
                1 => (char)_random.Next(0, 32),
                2 => (char)_random.Next(0x80, 0x3000),
                _ => (char)_random.Next(32, 127),
            });
        }

        return text.ToString();
    }
}
