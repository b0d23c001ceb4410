namespace MemSvc.Hypervisor.Simulated;

/// <summary>The level of a guest mapping (SPTE) in the model's MMU, numbered like the kernel's PG_LEVEL_*.</summary>
public enum MappingLevel : byte
{
    /// <summary>Not mapped: the next access faults.</summary>
    None = 0,
    Page4K = 1,
    Page2M = 2,
    Page1G = 3,
}

internal static class MappingLevels
{
    public static ulong Bytes(MappingLevel level) => level switch
    {
        MappingLevel.Page1G => 1UL << 30,
        MappingLevel.Page2M => 1UL << 21,
        _ => 1UL << 12,
    };

    /// <summary>kvm_max_level_for_order: the largest mapping a folio of 2^order pages allows.</summary>
    public static MappingLevel ForFolioOrder(int order) => order switch
    {
        >= 18 => MappingLevel.Page1G,
        >= 9 => MappingLevel.Page2M,
        _ => MappingLevel.Page4K,
    };
}
