namespace MemSvc.Hypervisor.Tests.Capabilities;

/// <summary>
/// The gate every backend test passes: the test runs when the hypervisor's probed capabilities meet its
/// <see cref="HostNeed"/>, and is skipped otherwise with a reason naming the capability and the value probed.
/// Each call is also recorded (<see cref="CapabilityLog"/>) so that a run can say how many tests ran, passed and
/// were skipped per capability.
/// </summary>
public static class HostRequirements
{
    /// <summary>Skips the calling test unless <paramref name="hypervisor"/> has everything in <paramref name="needs"/>.</summary>
    public static void Require(IHypervisor hypervisor, HostNeed needs)
    {
        CapabilityLog.Record(hypervisor.Capabilities.Backend, needs);
        CapabilityLog.RecordProbe(hypervisor, () => DefaultVmHasAttributesIoctl(hypervisor));
        if (Missing(hypervisor, needs) is { } reason)
        {
            Assert.Skip(reason);
        }
    }

    /// <summary>Why <paramref name="hypervisor"/> cannot serve <paramref name="needs"/>, or null when it can.</summary>
    public static string? Missing(IHypervisor hypervisor, HostNeed needs)
    {
        var caps = hypervisor.Capabilities;
        var missing = new List<string>();
        if (needs.HasFlag(HostNeed.GuestMemfd) && !caps.GuestMemfd)
        {
            missing.Add("guest_memfd (KVM_CAP_GUEST_MEMFD=0)");
        }
        else if (NeededFlags(needs) is var flags and not GuestMemfdFlags.None && (caps.GuestMemfdFlags & flags) != flags)
        {
            missing.Add($"guest_memfd flags {flags} (KVM_CAP_GUEST_MEMFD_FLAGS=0x{(ulong)caps.GuestMemfdFlags:x})");
        }

        if (needs.HasFlag(HostNeed.MemoryAttributesIoctl) && !DefaultVmHasAttributesIoctl(hypervisor))
        {
            missing.Add($"KVM_SET_MEMORY_ATTRIBUTES (KVM_CAP_MEMORY_ATTRIBUTES=0x{(ulong)caps.MemoryAttributes:x}: the ioctl is absent)");
        }

        if (needs.HasFlag(HostNeed.MapGpaRangeExit) && (caps.ExitHypercallMask & (1UL << 12)) == 0)
        {
            missing.Add($"the KVM_HC_MAP_GPA_RANGE exit (KVM_CAP_EXIT_HYPERCALL=0x{caps.ExitHypercallMask:x})");
        }

        if (needs.HasFlag(HostNeed.MemoryFaultInfo) && !caps.MemoryFaultInfo)
        {
            missing.Add("KVM_EXIT_MEMORY_FAULT (KVM_CAP_MEMORY_FAULT_INFO=0)");
        }

        return missing.Count == 0 ? null : $"this {caps.Backend} host ({caps.KernelVersion}) lacks what the test needs: {string.Join("; ", missing)}";
    }

    private static GuestMemfdFlags NeededFlags(HostNeed needs)
    {
        var flags = GuestMemfdFlags.None;
        if ((needs & HostNeed.GuestMemfdMmap) == HostNeed.GuestMemfdMmap)
        {
            flags |= GuestMemfdFlags.Mmap;
        }

        if ((needs & HostNeed.GuestMemfdMmapShared) == HostNeed.GuestMemfdMmapShared)
        {
            flags |= GuestMemfdFlags.InitShared;
        }

        return flags;
    }

    private static bool DefaultVmHasAttributesIoctl(IHypervisor hypervisor)
    {
        using var vm = hypervisor.CreateVm(VmType.Default);
        return vm.Capabilities.MemoryAttributesIoctl;
    }
}
