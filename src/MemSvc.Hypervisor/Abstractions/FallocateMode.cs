namespace MemSvc.Hypervisor;

/// <summary>FALLOC_FL_* modes of fallocate(2). guest_memfd accepts only KeepSize and KeepSize|PunchHole.</summary>
[Flags]
public enum FallocateMode
{
    /// <summary>Plain allocation that may grow the file: guest_memfd refuses it (EOPNOTSUPP).</summary>
    Default = 0,
    KeepSize = 0x01,
    PunchHole = 0x02,
    CollapseRange = 0x08,
    ZeroRange = 0x10,
    InsertRange = 0x20,
    UnshareRange = 0x40,
}
