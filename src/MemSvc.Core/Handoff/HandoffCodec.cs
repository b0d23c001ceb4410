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
    /// The form this build writes and reads. Any change to the records below is a new version. 2: VMs of the kvm
    /// backend, described in <see cref="VmHandoffState.Kvm"/> with their memory as descriptors passed beside the state.
    /// </summary>
    public const int Version = 2;

    public static byte[] Encode(HandoffState state) => JsonSerializer.SerializeToUtf8Bytes(state, HandoffJsonContext.Default.HandoffState);

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
            : state.Version != Version
                ? throw new InvalidDataException($"the handoff state is version {state.Version}; this build reads version {Version}")
                : state;
    }
}

[JsonSerializable(typeof(HandoffState))]
[JsonSourceGenerationOptions(RespectRequiredConstructorParameters = true)]
internal sealed partial class HandoffJsonContext : JsonSerializerContext
{
}
