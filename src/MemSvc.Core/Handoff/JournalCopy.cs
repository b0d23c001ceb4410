using MemSvc.Core.Events;
using MemSvc.Core.Events.Files;
using MemSvc.Hypervisor;
using MemSvc.Hypervisor.Memory;
using MemSvc.Hypervisor.Simulated.Handoff;

namespace MemSvc.Core.Handoff;

/// <summary>
/// The journals copied ahead of a handoff (version 3), while the VMs still run: every VM's held events, serialized
/// (<see cref="Serialized"/>). The new process decodes them (<see cref="CopiedJournals"/>) before the old one freezes
/// anything, and the frozen state carries only the events appended since: a journal's events are never rewritten,
/// so the copy stays true, and the vCPUs' pause no longer grows with the journals (65,536 events a VM by default).
/// From version 4 the simulated VMs' guest programs and memory contents come with it: a program changes only when
/// another is loaded (a new object), a page store only when written, so the frozen state carries only what changed
/// since.
/// </summary>
public sealed class JournalCopy
{
    private readonly IReadOnlyDictionary<(string Uid, int Vcpu), GuestProgram> _programs;
    private readonly IReadOnlyDictionary<(string Uid, string Key), StoreSnapshot> _contents;

    internal JournalCopy(
        byte[] serialized,
        IReadOnlyDictionary<string, ulong> through,
        IReadOnlyDictionary<(string Uid, int Vcpu), GuestProgram> programs,
        IReadOnlyDictionary<(string Uid, string Key), StoreSnapshot> contents)
    {
        Serialized = serialized;
        Through = through;
        _programs = programs;
        _contents = contents;
    }

    public byte[] Serialized { get; }

    /// <summary>By VM uid: the last sequence copied (0 for a journal that had none).</summary>
    internal IReadOnlyDictionary<string, ulong> Through { get; }

    /// <summary>What of VM <paramref name="uid"/> went with the copy (nothing before version 4), for its export.</summary>
    internal SentAhead SentAheadOf(string uid) => new(
        vcpu => _programs.GetValueOrDefault((uid, vcpu)),
        key => _contents.GetValueOrDefault((uid, key)));
}

/// <summary>The new side of a <see cref="JournalCopy"/>: each VM's copied events, decoded, by uid.</summary>
public sealed class CopiedJournals
{
    private readonly Dictionary<string, IReadOnlyList<VmEvent>> _events;
    private readonly Dictionary<(string Uid, int Vcpu), GuestProgram> _programs;
    private readonly Dictionary<(string Uid, string Key), PageStoreState> _contents;

    private CopiedJournals(
        Dictionary<string, IReadOnlyList<VmEvent>> events,
        Dictionary<(string Uid, int Vcpu), GuestProgram> programs,
        Dictionary<(string Uid, string Key), PageStoreState> contents) =>
        (_events, _programs, _contents) = (events, programs, contents);

    /// <summary>
    /// The copy the old process sent; <see cref="InvalidDataException"/> when it does not parse. Its programs are
    /// validated here, before anything freezes, as a load validates them.
    /// </summary>
    public static CopiedJournals Read(ReadOnlySpan<byte> serialized)
    {
        var state = HandoffCodec.DecodeJournals(serialized);
        try
        {
            return new CopiedJournals(
                state.Journals.ToDictionary(
                    j => j.Uid,
                    j => (IReadOnlyList<VmEvent>)[.. j.Events.Select(e => EventCodec.Read(e, j.VmId, j.Uid))],
                    StringComparer.Ordinal),
                (state.Programs ?? []).ToDictionary(p => (p.Uid, p.Vcpu), p => GuestStepStates.ToProgram(p.Steps)),
                (state.Contents ?? []).ToDictionary(c => (c.Uid, c.Key), c => c.Contents));
        }
        catch (Exception e) when (e is ArgumentException or FormatException or IndexOutOfRangeException or ArgumentOutOfRangeException)
        {
            throw new InvalidDataException($"the copied journals do not read: {e.Message}", e);
        }
    }

    /// <summary>What of VM <paramref name="uid"/> came with the copy, for its adoption.</summary>
    internal CameAhead CameAheadFor(string uid) => new(
        vcpu => _programs.GetValueOrDefault((uid, vcpu)),
        key => _contents.GetValueOrDefault((uid, key)));

    /// <summary>
    /// The journal of the VM <paramref name="uid"/> from the copy and the frozen state's <paramref name="since"/>
    /// (the events after the copy): the copy is left out when the two do not meet (the old journal compacted past it
    /// meanwhile, and the state then holds every event it kept).
    /// </summary>
    internal (IReadOnlyList<VmEvent> Copied, IReadOnlyList<VmEvent> Since) Join(string uid, IReadOnlyList<VmEvent> since, ulong nextSequence)
    {
        if (!_events.TryGetValue(uid, out var copied) || copied.Count == 0)
        {
            return ([], since);
        }

        var follows = since.Count > 0 ? since[0].Sequence : nextSequence;
        return copied[^1].Sequence + 1 == follows ? (copied, since) : ([], since);
    }
}
