namespace MemSvc.Hypervisor;

/// <summary>GUEST_MEMFD_FLAG_* of KVM_CREATE_GUEST_MEMFD.</summary>
[Flags]
public enum GuestMemfdFlags : ulong
{
    None = 0,

    /// <summary>GUEST_MEMFD_FLAG_MMAP: the file can be mmap'ed (MAP_SHARED) by the host.</summary>
    Mmap = 1UL << 0,

    /// <summary>GUEST_MEMFD_FLAG_INIT_SHARED: pages start shared, so the host may touch them (only on VMs without private memory).</summary>
    InitShared = 1UL << 1,
}
