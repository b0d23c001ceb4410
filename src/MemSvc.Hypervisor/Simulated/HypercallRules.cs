namespace MemSvc.Hypervisor.Simulated;

/// <summary>KVM_HC_MAP_GPA_RANGE in __kvm_emulate_hypercall (HC-2..HC-4).</summary>
internal static class HypercallRules
{
    /// <summary>
    /// The value the guest gets without an exit (-KVM_ENOSYS when the exit is not enabled, -KVM_EINVAL for bad
    /// arguments), or null when the hypercall exits to userspace.
    /// </summary>
    public static ulong? ImmediateResult(bool exitEnabled, ulong gpa, ulong pages)
    {
        if (!exitEnabled)
        {
            return KvmLimits.KvmEnosys;
        }

        var gfn = gpa >> KvmLimits.PageShift;
        if (!KvmLimits.IsPageAligned(gpa) || pages == 0 || gfn + pages <= gfn)
        {
            return KvmLimits.KvmEinval;
        }

        return null;
    }
}
