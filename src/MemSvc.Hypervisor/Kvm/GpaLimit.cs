namespace MemSvc.Hypervisor.Kvm;

/// <summary>
/// How high a memslot may reach: KVM refuses a slot that ends past kvm_mmu_max_gfn() (arch/x86/kvm/mmu.h), whose
/// bits are the host's MAXPHYADDR when two-dimensional paging (AMD NPT, Intel EPT) is on and 52 with the shadow
/// MMU. No capability reports it, so it is read from what KVM does report: the supported CPUID's 0x80000008 leaf
/// and the vendor module's npt/ept parameter.
/// </summary>
internal static class GpaLimit
{
    /// <summary>The shadow MMU's limit: x86-64's architectural maximum physical address width.</summary>
    public const int ShadowMmuBits = 52;

    private const uint AddressSizesLeaf = 0x8000_0008;

    // The vendor modules' switches for two-dimensional paging. kvm_pvm has neither: it always uses the shadow MMU.
    private static readonly string[] TwoDimensionalPagingParameters =
    [
        "/sys/module/kvm_amd/parameters/npt",
        "/sys/module/kvm_intel/parameters/ept",
    ];

    public static int MaxGpaBits(ReadOnlySpan<KvmCpuidEntry2> supportedCpuid) =>
        TwoDimensionalPaging() ? PhysicalAddressBits(supportedCpuid) ?? ShadowMmuBits : ShadowMmuBits;

    /// <summary>CPUID 0x80000008 EAX[7:0], the physical address width KVM passes to guests.</summary>
    public static int? PhysicalAddressBits(ReadOnlySpan<KvmCpuidEntry2> supportedCpuid)
    {
        foreach (var entry in supportedCpuid)
        {
            if (entry.Function == AddressSizesLeaf && (entry.Eax & 0xff) != 0)
            {
                return (int)(entry.Eax & 0xff);
            }
        }

        return null;
    }

    private static bool TwoDimensionalPaging()
    {
        foreach (var path in TwoDimensionalPagingParameters)
        {
            try
            {
                var value = File.ReadAllText(path).Trim();
                return value is "Y" or "1";
            }
            catch (IOException)
            {
                // This vendor module is not loaded; try the other.
            }
            catch (UnauthorizedAccessException)
            {
            }
        }

        return false;
    }
}
