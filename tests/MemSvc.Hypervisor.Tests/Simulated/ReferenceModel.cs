namespace MemSvc.Hypervisor.Tests.Simulated;

/// <summary>
/// A per-page reference of what the simulated backend must do, for the property tests: a private VM of 16 pages,
/// two memslots (pages 0–7 → gmem pages 0–7, pages 8–15 → gmem pages 8–15) that come and go, one guest_memfd,
/// each page holding one byte value. Written from SEMANTICS.md, independently of the model's code.
/// </summary>
internal sealed class ReferenceModel
{
    public const int Pages = 16;
    public const int SlotPages = 8;

    public bool[] Private { get; } = new bool[Pages];

    public byte[] Shared { get; } = new byte[Pages];

    public byte[] Gmem { get; } = new byte[Pages];

    public bool[] Bound { get; } = new bool[2];

    public void SetAttributes(int lo, int hi, bool isPrivate) => Array.Fill(Private, isPrivate, lo, hi - lo);

    public void ToggleSlot(int slot)
    {
        Bound[slot] = !Bound[slot];

        // A deleted slot's anonymous shared side is freed; a new one starts zeroed.
        Array.Fill(Shared, (byte)0, slot * SlotPages, SlotPages);
    }

    public void Punch(int lo, int hi) => Array.Fill(Gmem, (byte)0, lo, hi - lo);

    /// <summary>The exit a guest access to <paramref name="page"/> ends in, or null when it reaches memory.</summary>
    public VmExit? Fault(int page, bool isPrivate, bool isWrite)
    {
        var gpa = (ulong)page * 4096;
        if (isPrivate != Private[page])
        {
            return new VmExit.MemoryFault(gpa, 4096, isPrivate ? MemoryFaultFlags.Private : MemoryFaultFlags.None);
        }

        if (!Bound[page / SlotPages])
        {
            return isPrivate ? new VmExit.MemoryFault(gpa, 4096, MemoryFaultFlags.Private) : new VmExit.Mmio(gpa, 4096, isWrite);
        }

        return null;
    }

    public byte[] DataFor(bool isPrivate) => isPrivate ? Gmem : Shared;
}
