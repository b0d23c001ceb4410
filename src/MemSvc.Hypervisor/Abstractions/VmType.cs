namespace MemSvc.Hypervisor;

/// <summary>The x86 VM types of KVM_CREATE_VM; the values are the kernel's (KVM_X86_*_VM).</summary>
public enum VmType
{
    Default = 0,
    SwProtected = 1,
    Sev = 2,
    SevEs = 3,
    Snp = 4,
    Tdx = 5,
}

public static class VmTypeExtensions
{
    /// <summary>
    /// Whether VMs of this type have private memory (kvm_arch_has_private_mem): only they accept the PRIVATE
    /// attribute, and only their guests can ask for private memory.
    /// </summary>
    public static bool HasPrivateMemory(this VmType type) =>
        type is VmType.SwProtected or VmType.Snp or VmType.Tdx;
}
