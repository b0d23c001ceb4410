using MemSvc.Hypervisor.Kvm;

namespace MemSvc.Hypervisor.Tests.Kvm;

/// <summary>
/// The capabilities probed at start-up, checked against the kernel itself rather than one host's values: every raw
/// value against an independent KVM_CHECK_EXTENSION, every typed field against the raw value it comes from, and
/// only what the KVM API fixes as a constant.
/// </summary>
public class KvmCapabilityTests
{
    [Fact]
    public void Raw_holds_every_capability_probed_with_the_kernels_own_answer()
    {
        using var hypervisor = KvmTestHost.Open();
        using var system = KvmSystem.Open();
        using var vm = system.CreateVm((ulong)VmType.Default);
        var expected = new Dictionary<string, long>();
        foreach (var (name, number) in KvmCaps.Probed)
        {
            expected[name] = system.CheckExtension(number);
        }

        foreach (var (name, number) in new[] { ("KVM_CAP_GUEST_MEMFD_FLAGS", KvmCaps.GuestMemfdFlags), ("KVM_CAP_MEMORY_ATTRIBUTES", KvmCaps.MemoryAttributes), ("KVM_CAP_EXIT_HYPERCALL", KvmCaps.ExitHypercall) })
        {
            expected[KvmCapabilityProbe.VmKeyPrefix + name] = vm.CheckExtension(number);
        }

        Assert.Equal(expected.OrderBy(p => p.Key), hypervisor.Capabilities.Raw.OrderBy(p => p.Key));
    }

    [Fact]
    public void Typed_capabilities_are_the_raw_values_they_come_from()
    {
        using var hypervisor = KvmTestHost.Open();
        var caps = hypervisor.Capabilities;
        var raw = caps.Raw;
        Assert.Equal("kvm", caps.Backend);
        Assert.Equal(KvmHypervisor.ExpectedApiVersion, caps.ApiVersion);
        Assert.Equal(File.ReadAllText("/proc/sys/kernel/osrelease").Trim(), caps.KernelVersion);
        Assert.Equal(KvmCapabilityProbe.VmTypesFromMask(raw["KVM_CAP_VM_TYPES"]), caps.VmTypes);
        Assert.Contains(VmType.Default, caps.VmTypes);
        Assert.Equal(raw["KVM_CAP_USER_MEMORY2"] != 0, caps.UserMemory2);
        Assert.Equal(raw["KVM_CAP_GUEST_MEMFD"] != 0, caps.GuestMemfd);
        Assert.Equal((GuestMemfdFlags)(ulong)raw["vm.KVM_CAP_GUEST_MEMFD_FLAGS"], caps.GuestMemfdFlags);
        Assert.Equal((MemoryAttributes)(ulong)raw["KVM_CAP_MEMORY_ATTRIBUTES"], caps.MemoryAttributes);
        Assert.Equal(raw["KVM_CAP_MEMORY_FAULT_INFO"] != 0, caps.MemoryFaultInfo);
        Assert.Equal((ulong)raw["KVM_CAP_EXIT_HYPERCALL"], caps.ExitHypercallMask);
        Assert.Equal(raw["KVM_CAP_NR_MEMSLOTS"], caps.MaxMemslots);
        Assert.Equal(raw["KVM_CAP_MAX_VCPUS"], caps.MaxVcpus);
        Assert.InRange(caps.MaxGpaBits, 36, 52);
    }

    [Fact]
    public void Guest_memfd_flags_are_reported_only_where_guest_memfd_exists()
    {
        using var hypervisor = KvmTestHost.Open();
        var caps = hypervisor.Capabilities;
        if (!caps.GuestMemfd)
        {
            Assert.Equal(GuestMemfdFlags.None, caps.GuestMemfdFlags);
        }

        Assert.Equal(GuestMemfdFlags.None, caps.GuestMemfdFlags & ~(GuestMemfdFlags.Mmap | GuestMemfdFlags.InitShared));
    }

    [Fact]
    public void Kvm_create_vm_refuses_every_type_the_host_does_not_report_with_EINVAL()
    {
        using var hypervisor = KvmTestHost.Open();
        foreach (var type in new[] { VmType.SwProtected, VmType.Sev, VmType.SevEs, VmType.Snp, VmType.Tdx })
        {
            if (hypervisor.Capabilities.VmTypes.Contains(type))
            {
                hypervisor.CreateVm(type).Dispose();
            }
            else
            {
                Assert.Equal(Errno.EINVAL, KvmRig.Fails(() => hypervisor.CreateVm(type).Dispose()).Errno);
            }
        }
    }

    [Fact]
    public void A_default_vm_reports_its_own_capabilities_and_the_boot_range()
    {
        using var rig = new KvmRig();
        var caps = rig.Vm.Capabilities;
        var raw = rig.Hypervisor.Capabilities.Raw;
        Assert.Equal((GuestMemfdFlags)(ulong)raw["vm.KVM_CAP_GUEST_MEMFD_FLAGS"], caps.GuestMemfdFlags);
        Assert.Equal((MemoryAttributes)(ulong)raw["vm.KVM_CAP_MEMORY_ATTRIBUTES"], caps.MemoryAttributes);
        Assert.Equal(raw["KVM_CAP_MEMORY_ATTRIBUTES"] != 0, caps.MemoryAttributesIoctl);
        Assert.Equal((ulong)raw["vm.KVM_CAP_EXIT_HYPERCALL"], caps.ExitHypercallMask);
        Assert.Equal([new GpaRange(0xFFC0_0000, 4 * KvmRig.M)], caps.ReservedRanges);
        Assert.Equal((uint)(rig.Hypervisor.Capabilities.MaxMemslots - 1), rig.Vm.BootSlot);
    }

    [Fact]
    public void A_host_without_guest_memfd_refuses_KVM_CREATE_GUEST_MEMFD_with_ENOTTY()
    {
        using var rig = new KvmRig();
        Assert.SkipWhen(rig.Hypervisor.Capabilities.GuestMemfd, "this host has guest_memfd (KVM_CAP_GUEST_MEMFD=1)");
        var e = KvmRig.Fails(() => rig.Vm.CreateGuestMemfd(2 * KvmRig.M, GuestMemfdFlags.None));
        Assert.Equal(Errno.ENOTTY, e.Errno);
        Assert.Equal("KVM_CREATE_GUEST_MEMFD", e.Operation);
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
