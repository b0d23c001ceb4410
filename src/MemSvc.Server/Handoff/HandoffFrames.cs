using System.Buffers.Binary;
using System.Text;

namespace MemSvc.Server.Handoff;

/// <summary>What one frame of the handoff protocol is.</summary>
internal enum HandoffFrameType : byte
{
    /// <summary>New → old, first: the magic and the handoff version the new process speaks.</summary>
    Hello = (byte)'H',

    /// <summary>Old → new: no handoff, and why (UTF-8). The old process serves on.</summary>
    Refused = (byte)'R',

    /// <summary>
    /// Old → new, first from version 3, while its VMs still run: every journal's held events (a JournalCopy), which
    /// the new process reads before answering <see cref="Copied"/>.
    /// </summary>
    Journals = (byte)'J',

    /// <summary>New → old, from version 3: the journals are read; the old process may freeze and send its state.</summary>
    Copied = (byte)'K',

    /// <summary>Old → new: the serialized state; the old process's vCPUs are frozen and it admits no call.</summary>
    State = (byte)'S',

    /// <summary>Old → new, right after <see cref="State"/>: the server's request_id ledger (a part of the same version).</summary>
    RequestIds = (byte)'Q',

    /// <summary>
    /// Old → new, after <see cref="RequestIds"/>, one or more: descriptors (SCM_RIGHTS) the state indexes, the memory
    /// of kvm VMs. The payload is how many ride this frame (int32) and whether it is the last (a byte).
    /// </summary>
    Descriptors = (byte)'D',

    /// <summary>New → old: every VM is adopted; the old process exits at once.</summary>
    Adopted = (byte)'A',

    /// <summary>
    /// Old → new, after <see cref="Adopted"/>, from version 3: the old process has let go of the journal directory and
    /// exits now; the new one runs the vCPUs without waiting for that exit (only its listeners wait for it).
    /// </summary>
    Released = (byte)'L',

    /// <summary>New → old: the state could not be adopted, and why (UTF-8); the old process thaws and serves on.</summary>
    Failed = (byte)'F',
}

/// <summary>
/// The handoff protocol's frames, on the private Unix socket: a type byte, an 8-byte little-endian length, the
/// payload. The new process speaks first (<see cref="Hello"/>, carrying the version it reads), so that an old
/// process refuses a version it cannot hand to before anything stops.
/// </summary>
internal static class HandoffFrames
{
    /// <summary>
    /// The most a first frame may claim: a hello is the magic and a version (18 bytes). Without a bound, anyone who
    /// may connect (the same uid) could make the old server allocate up to 2 GiB before the hello is even checked.
    /// </summary>
    public const int MaxHelloBytes = 4096;

    /// <summary>
    /// The words in every release's refusal of a hello whose version it does not speak (since version 2): a new process
    /// refused with them says hello again in an older version it speaks.
    /// </summary>
    public const string VersionRefusalWords = "reads handoff state version";

    private const int HeaderSize = 9;

    private static readonly byte[] Magic = "memsvc-handoff"u8.ToArray();

    public static void Write(Stream stream, HandoffFrameType type, ReadOnlySpan<byte> payload)
    {
        Span<byte> header = stackalloc byte[HeaderSize];
        header[0] = (byte)type;
        BinaryPrimitives.WriteInt64LittleEndian(header[1..], payload.Length);
        stream.Write(header);

        // No send of nothing after an Adopted header: the old process may have read it and exited by then, and a
        // zero-length send to a closed peer fails (EPIPE), which made the new process abandon VMs the old one had let go.
        if (!payload.IsEmpty)
        {
            stream.Write(payload);
        }

        stream.Flush();
    }

    public static void WriteText(Stream stream, HandoffFrameType type, string text) => Write(stream, type, Encoding.UTF8.GetBytes(text));

    /// <summary>
    /// The next frame; <see cref="EndOfStreamException"/> when the peer closed, <see cref="InvalidDataException"/> for
    /// garbage or a payload longer than <paramref name="maxLength"/> (refused before any of it is allocated or read).
    /// </summary>
    public static (HandoffFrameType Type, byte[] Payload) Read(Stream stream, int maxLength = int.MaxValue)
    {
        Span<byte> header = stackalloc byte[HeaderSize];
        stream.ReadExactly(header);
        var type = (HandoffFrameType)header[0];
        var length = BinaryPrimitives.ReadInt64LittleEndian(header[1..]);
        if (!Enum.IsDefined(type) || length < 0 || length > Array.MaxLength)
        {
            throw new InvalidDataException($"not a handoff frame (type 0x{header[0]:x2}, length {length})");
        }

        if (length > maxLength)
        {
            throw new InvalidDataException($"a {type} frame of {length} bytes, where at most {maxLength} may come here");
        }

        var payload = new byte[length];
        stream.ReadExactly(payload);
        return (type, payload);
    }

    public static byte[] Hello(int version)
    {
        var payload = new byte[Magic.Length + 4];
        Magic.CopyTo(payload, 0);
        BinaryPrimitives.WriteInt32LittleEndian(payload.AsSpan(Magic.Length), version);
        return payload;
    }

    /// <summary>The version a hello announces, or null when the payload is not a MemSvc hello.</summary>
    public static int? ReadHello(ReadOnlySpan<byte> payload) =>
        payload.Length == Magic.Length + 4 && payload[..Magic.Length].SequenceEqual(Magic)
            ? BinaryPrimitives.ReadInt32LittleEndian(payload[Magic.Length..])
            : null;

    public static string Text(byte[] payload) => Encoding.UTF8.GetString(payload);
}
