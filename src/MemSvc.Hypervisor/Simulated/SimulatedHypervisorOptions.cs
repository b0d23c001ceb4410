namespace MemSvc.Hypervisor.Simulated;

/// <summary>
/// The host the model is: its host profile (VM types, capabilities, errno where kernels differ), and host-side
/// facts the kernel takes from the host's memory rather than from KVM, which decide mapping levels only (never
/// errors, exits or data).
/// </summary>
public sealed record SimulatedHypervisorOptions
{
    /// <summary>Which host to be; <see cref="SimulatedHostProfile.Default"/> unless told otherwise.</summary>
    public SimulatedHostProfile Profile { get; init; } = SimulatedHostProfile.Default;

    /// <summary>
    /// The largest host mapping of anonymous shared memory: 2 MiB by default (transparent huge pages back a
    /// 2 MiB-aligned anonymous mapping), so shared faults may map 2 MiB where the attributes are uniform (HP-1).
    /// </summary>
    public MappingLevel AnonymousHostLevel { get; init; } = MappingLevel.Page2M;

    /// <summary>
    /// The folio order guest_memfd hands out (kvm_gmem_get_pfn's max_order). 0 as in v6.8 and v6.18 without
    /// huge guest_memfd pages, so private mappings are 4 KiB (MF-9); 9 gives 2 MiB folios.
    /// </summary>
    public int GuestMemfdFolioOrder { get; init; }
}
