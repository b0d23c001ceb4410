using System.Buffers.Binary;
using System.Text;

namespace MemSvc.Core.Events.Files;

/// <summary>
/// Reads a record's fields in order. A body that ends early or holds an impossible value throws
/// <see cref="FormatException"/>: its checksum matched, so it was written so by a binary that meant something else.
/// </summary>
internal ref struct BodyReader(ReadOnlySpan<byte> body)
{
    private ReadOnlySpan<byte> _rest = body;

    public byte Byte() => Take(1)[0];

    public bool Bool() => Byte() switch
    {
        0 => false,
        1 => true,
        var b => throw new FormatException($"a journal record holds {b} where a flag (0 or 1) belongs"),
    };

    public int Int() => BinaryPrimitives.ReadInt32LittleEndian(Take(4));

    public long Long() => BinaryPrimitives.ReadInt64LittleEndian(Take(8));

    public ulong ULong() => BinaryPrimitives.ReadUInt64LittleEndian(Take(8));

    public string String()
    {
        var length = Int();
        if (length < 0 || length > _rest.Length)
        {
            throw new FormatException($"a journal record's string of {length} bytes does not fit in the record");
        }

        return Encoding.UTF8.GetString(Take(length));
    }

    public readonly void End()
    {
        if (!_rest.IsEmpty)
        {
            throw new FormatException($"a journal record has {_rest.Length} bytes past its last field");
        }
    }

    private ReadOnlySpan<byte> Take(int count)
    {
        if (_rest.Length < count)
        {
            throw new FormatException("a journal record ends before its last field");
        }

        var taken = _rest[..count];
        _rest = _rest[count..];
        return taken;
    }
}
