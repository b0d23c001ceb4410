namespace MemSvc.Hypervisor;

/// <summary>KVM_MEMORY_ATTRIBUTE_* of KVM_SET_MEMORY_ATTRIBUTES. No bits set means shared.</summary>
[Flags]
public enum MemoryAttributes : ulong
{
    None = 0,

    /// <summary>KVM_MEMORY_ATTRIBUTE_PRIVATE: the page is private; the guest's accesses are served from guest_memfd.</summary>
    Private = 1UL << 3,
}
