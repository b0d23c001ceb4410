using System.Globalization;

namespace MemSvc.Hypervisor.Tests.Simulated;

/// <summary>
/// The caps tables of the measured hosts, as the probe printed them (name, KVM_CAP number, /dev/kvm, VM type 0),
/// and the Raw dictionary a backend reports for such a host: every row by its KVM_CAP_ name with the /dev/kvm
/// answer, plus the VM answer of the capabilities that depend on the VM type under "vm.".
/// </summary>
internal static class ProbedCapabilityTables
{
    /// <summary>kvm/probe/results.txt, "===== caps" (kvm_pvm 6.18.44), without the "245: not in 6.18" row.</summary>
    public const string Pvm618 = """
        USER_MEMORY                     3            1            1
        NR_MEMSLOTS                    10        32764        32764
        SYNC_MMU                       16            1            1
        INTERNAL_ERROR_DATA            40            1            1
        MAX_VCPUS                      66         1024         1024
        READONLY_MEM                   81            1            1
        ENABLE_CAP_VM                  98            1            1
        CHECK_EXTENSION_VM            105            1            1
        X86_SMM                       117            0            0
        MULTI_ADDRESS_SPACE           118            0            0
        IMMEDIATE_EXIT                136            1            1
        X86_DISABLE_EXITS             143           14           14
        X86_USER_SPACE_MSR            188            1            1
        DIRTY_LOG_RING                192      1048576      1048576
        EXIT_HYPERCALL                201         4096         4096
        EXIT_ON_EMULATION_FAILURE     204            1            1
        VM_GPA_BITS                   207            0            0
        USER_MEMORY2                  231            1            1
        MEMORY_FAULT_INFO             232            1            1
        MEMORY_ATTRIBUTES             233            0            0
        GUEST_MEMFD                   234            1            1
        VM_TYPES                      235            1            1
        PRE_FAULT_MEMORY              236            0            0
        X86_GUEST_MODE                238            1            1
        GUEST_MEMFD_FLAGS             244            3            3
        """;

    /// <summary>kvm/nested/results-nested.txt, "===== caps" (Debian 7.2.13, kvm_amd), without the 245 row.</summary>
    public const string Debian72 = """
        USER_MEMORY                     3            1            1
        NR_MEMSLOTS                    10        32764        32764
        SYNC_MMU                       16            1            1
        INTERNAL_ERROR_DATA            40            1            1
        MAX_VCPUS                      66         4096         4096
        READONLY_MEM                   81            1            1
        ENABLE_CAP_VM                  98            1            1
        CHECK_EXTENSION_VM            105            1            1
        X86_SMM                       117            1            1
        MULTI_ADDRESS_SPACE           118            2            2
        IMMEDIATE_EXIT                136            1            1
        X86_DISABLE_EXITS             143           15           15
        X86_USER_SPACE_MSR            188            1            1
        DIRTY_LOG_RING                192      1048576      1048576
        EXIT_HYPERCALL                201         4096         4096
        EXIT_ON_EMULATION_FAILURE     204            1            1
        VM_GPA_BITS                   207            0            0
        USER_MEMORY2                  231            1            1
        MEMORY_FAULT_INFO             232            1            1
        MEMORY_ATTRIBUTES             233            8            0
        GUEST_MEMFD                   234            1            1
        VM_TYPES                      235            1            1
        PRE_FAULT_MEMORY              236            1            1
        X86_GUEST_MODE                238            1            1
        GUEST_MEMFD_FLAGS             244            3            3
        """;

    // The capabilities the kvm backend also asks a default VM (KvmCapabilityProbe's VM level).
    private static readonly string[] VmLevel = ["GUEST_MEMFD_FLAGS", "MEMORY_ATTRIBUTES", "EXIT_HYPERCALL"];

    /// <summary>
    /// The field report of 2026-12-04, section 1: "identical to kvm/probe/results.txt, except for guest_memfd",
    /// where KVM_CAP_GUEST_MEMFD and KVM_CAP_GUEST_MEMFD_FLAGS are 0 on /dev/kvm and on the VM.
    /// </summary>
    public static string Pvm618WithoutGuestMemfd =>
        Pvm618
            .Replace("GUEST_MEMFD                   234            1            1", "GUEST_MEMFD                   234            0            0", StringComparison.Ordinal)
            .Replace("GUEST_MEMFD_FLAGS             244            3            3", "GUEST_MEMFD_FLAGS             244            0            0", StringComparison.Ordinal);

    /// <summary>The Raw dictionary a backend on the host of <paramref name="table"/> reports.</summary>
    public static SortedDictionary<string, long> Raw(string table)
    {
        var raw = new SortedDictionary<string, long>(StringComparer.Ordinal);
        foreach (var line in table.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var cells = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            var name = cells[0];
            raw["KVM_CAP_" + name] = long.Parse(cells[2], CultureInfo.InvariantCulture);
            if (VmLevel.Contains(name))
            {
                raw["vm.KVM_CAP_" + name] = long.Parse(cells[3], CultureInfo.InvariantCulture);
            }
        }

        return raw;
    }
}
