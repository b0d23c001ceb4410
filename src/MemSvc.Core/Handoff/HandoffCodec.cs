using System.Text.Json;
using System.Text.Json.Serialization;

namespace MemSvc.Core.Handoff;

/// <summary>
/// The handoff's serialized form: <see cref="HandoffState"/> as UTF-8 JSON (source-generated, no reflection). The
/// version is also exchanged in the handoff's hello, before any state moves, so that a process that cannot read
/// this form refuses the handoff and the old process keeps serving; decoding checks it again.
/// </summary>
internal static class HandoffCodec
{
    /// <summary>
    /// The newest form this build writes and reads. Any change to the records below, or to the handoff's exchange,
    /// is a new version. 2: VMs of the kvm backend, described in <see cref="VmHandoffState.Kvm"/> with their memory
    /// as descriptors passed beside the state. 3: the records of 2; the old process lets go of the journal directory
    /// and says so before it exits, and the new one runs the vCPUs then, not once the old one's last thread is gone.
    /// 4: simulated VMs' guest programs and page stores' contents are sent with the journals, before the freeze
    /// (<see cref="ProgramHandoffState"/>, <see cref="ContentsHandoffState"/>), and the frozen state leaves out what is
    /// unchanged since, saying so (<c>ProgramSentAhead</c>, <c>ContentsSentAhead</c>).
    /// </summary>
    public const int Version = 4;

    /// <summary>
    /// The oldest form this build still writes and reads, so that the release before it can take over from this one
    /// (a downgrade) and this one from it (an upgrade): each new version keeps the one before.
    /// </summary>
    public const int OldestVersion = 2;

    /// <summary>Whether this build writes and reads <paramref name="version"/>.</summary>
    public static bool Speaks(int version) => version is >= OldestVersion and <= Version;

    public static byte[] Encode(HandoffState state) => JsonSerializer.SerializeToUtf8Bytes(state, HandoffJsonContext.Default.HandoffState);

    public static byte[] EncodeJournals(JournalsHandoffState journals) => JsonSerializer.SerializeToUtf8Bytes(journals, HandoffJsonContext.Default.JournalsHandoffState);

    /// <summary>The journals copied ahead of a handoff, or <see cref="InvalidDataException"/> for a body that does not parse.</summary>
    public static JournalsHandoffState DecodeJournals(ReadOnlySpan<byte> bytes)
    {
        try
        {
            return JsonSerializer.Deserialize(bytes, HandoffJsonContext.Default.JournalsHandoffState)
                ?? throw new InvalidDataException("the copied journals are empty");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"the copied journals do not parse: {e.Message}", e);
        }
    }

    /// <summary>The state, or <see cref="InvalidDataException"/> for another version or a body that does not parse.</summary>
    public static HandoffState Decode(ReadOnlySpan<byte> bytes)
    {
        HandoffState? state;
        try
        {
            state = JsonSerializer.Deserialize(bytes, HandoffJsonContext.Default.HandoffState);
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"the handoff state does not parse: {e.Message}", e);
        }

        return state is null
            ? throw new InvalidDataException("the handoff state is empty")
            : !Speaks(state.Version)
                ? throw new InvalidDataException($"the handoff state is version {state.Version}; this build reads versions {OldestVersion} to {Version}")
                : state;
    }
}

[JsonSerializable(typeof(HandoffState))]
[JsonSerializable(typeof(JournalsHandoffState))]
[JsonSourceGenerationOptions(RespectRequiredConstructorParameters = true)]
internal sealed partial class HandoffJsonContext : JsonSerializerContext
{
}
