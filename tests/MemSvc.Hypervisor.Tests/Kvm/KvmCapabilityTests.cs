using MemSvc.Hypervisor.Kvm;

namespace MemSvc.Hypervisor.Tests.Kvm;

/// <summary>The capabilities probed at start-up, against the probe's results.txt ("caps" section).</summary>
public class KvmCapabilityTests
{
    [Fact]
    public void Capabilities_match_the_probe()
    {
        using var hypervisor = KvmTestHost.Open();
        var caps = hypervisor.Capabilities;
        Assert.Equal("kvm", caps.Backend);
        Assert.Equal(12, caps.ApiVersion);
        Assert.Equal([VmType.Default], caps.VmTypes);
        Assert.True(caps.UserMemory2);
        Assert.True(caps.GuestMemfd);
        Assert.Equal(GuestMemfdFlags.Mmap | GuestMemfdFlags.InitShared, caps.GuestMemfdFlags);
        Assert.Equal(MemoryAttributes.None, caps.MemoryAttributes);
        Assert.True(caps.MemoryFaultInfo);
        Assert.Equal(1UL << 12, caps.ExitHypercallMask);
        Assert.Equal(32764, caps.MaxMemslots);
        Assert.Equal(1024, caps.MaxVcpus);
        Assert.Equal(File.ReadAllText("/proc/sys/kernel/osrelease").Trim(), caps.KernelVersion);
    }

    [Fact]
    public void Raw_holds_every_capability_probed_with_the_kernels_values()
    {
        using var hypervisor = KvmTestHost.Open();
        var expected = new Dictionary<string, long>
        {
            ["KVM_CAP_USER_MEMORY"] = 1,
            ["KVM_CAP_NR_MEMSLOTS"] = 32764,
            ["KVM_CAP_SYNC_MMU"] = 1,
            ["KVM_CAP_INTERNAL_ERROR_DATA"] = 1,
            ["KVM_CAP_MAX_VCPUS"] = 1024,
            ["KVM_CAP_READONLY_MEM"] = 1,
            ["KVM_CAP_IMMEDIATE_EXIT"] = 1,
            ["KVM_CAP_EXIT_HYPERCALL"] = 4096,
            ["KVM_CAP_VM_GPA_BITS"] = 0,
            ["KVM_CAP_USER_MEMORY2"] = 1,
            ["KVM_CAP_MEMORY_FAULT_INFO"] = 1,
            ["KVM_CAP_MEMORY_ATTRIBUTES"] = 0,
            ["KVM_CAP_GUEST_MEMFD"] = 1,
            ["KVM_CAP_VM_TYPES"] = 1,
            ["KVM_CAP_PRE_FAULT_MEMORY"] = 0,
            ["KVM_CAP_GUEST_MEMFD_FLAGS"] = 3,
            ["vm.KVM_CAP_GUEST_MEMFD_FLAGS"] = 3,
            ["vm.KVM_CAP_MEMORY_ATTRIBUTES"] = 0,
            ["vm.KVM_CAP_EXIT_HYPERCALL"] = 4096,
        };
        Assert.Equal(expected.OrderBy(p => p.Key), hypervisor.Capabilities.Raw.OrderBy(p => p.Key));
    }

    [Theory]
    [InlineData(VmType.SwProtected)]
    [InlineData(VmType.Sev)]
    [InlineData(VmType.SevEs)]
    [InlineData(VmType.Snp)]
    [InlineData(VmType.Tdx)]
    public void Only_the_default_vm_type_exists(VmType type)
    {
        using var hypervisor = KvmTestHost.Open();
        Assert.Equal(Errno.EINVAL, KvmRig.Fails(() => hypervisor.CreateVm(type).Dispose()).Errno);
    }

    [Fact]
    public void A_default_vm_reports_its_capabilities_and_the_boot_range()
    {
        using var rig = new KvmRig();
        var caps = rig.Vm.Capabilities;
        Assert.Equal(GuestMemfdFlags.Mmap | GuestMemfdFlags.InitShared, caps.GuestMemfdFlags);
        Assert.Equal(MemoryAttributes.None, caps.MemoryAttributes);
        Assert.False(caps.MemoryAttributesIoctl);
        Assert.Equal(1UL << 12, caps.ExitHypercallMask);
        Assert.Equal([new GpaRange(0xFFC0_0000, 4 * KvmRig.M)], caps.ReservedRanges);
        Assert.Equal(32763U, rig.Vm.BootSlot);
    }

    [Fact]
    public void Is_available_agrees_with_try_open()
    {
        var available = KvmHypervisor.IsAvailable(out var reason);
        Assert.Equal(available, reason is null);
        if (!available)
        {
            Assert.Contains("/dev/kvm", reason);
        }
    }
}
