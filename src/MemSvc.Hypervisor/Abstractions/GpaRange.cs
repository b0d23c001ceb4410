namespace MemSvc.Hypervisor;

/// <summary>A half-open guest-physical range [Start, Start + Size), in bytes.</summary>
public readonly record struct GpaRange(ulong Start, ulong Size)
{
    /// <summary>One past the last byte. Callers check for overflow before building a range.</summary>
    public ulong End => Start + Size;

    public bool Contains(ulong gpa) => gpa >= Start && gpa - Start < Size;

    public bool Overlaps(GpaRange other) => Start < other.End && other.Start < End;

    public override string ToString() => $"[0x{Start:x}, 0x{End:x})";
}

/// <summary>A run of guest-physical memory whose pages all have the same attributes.</summary>
public readonly record struct AttributeRange(ulong Start, ulong Size, MemoryAttributes Attributes)
{
    public ulong End => Start + Size;
}
