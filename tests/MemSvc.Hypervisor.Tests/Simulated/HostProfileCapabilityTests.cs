using MemSvc.Hypervisor.Simulated;
using static MemSvc.Hypervisor.Tests.Simulated.Sim;

namespace MemSvc.Hypervisor.Tests.Simulated;

/// <summary>
/// Host profiles: their names, and what KVM_CHECK_EXTENSION and KVM_CREATE_VM answer on each, value for value
/// against the measured hosts' tables.
/// </summary>
public class HostProfileCapabilityTests
{
    private const string Default = "default";
    private const string Pvm = "kvm-6.18-pvm";
    private const string NoGmem = "kvm-6.18-pvm-no-gmem";
    private const string Debian = "kvm-7.2-debian";
    private const GuestMemfdFlags MmapShared = GuestMemfdFlags.Mmap | GuestMemfdFlags.InitShared;

    public static TheoryData<int> VmTypeValues => [0, 1, 2, 3, 4, 5, 6, 8, 0xff, unchecked((int)0x80000000)];

    [Fact]
    public void The_named_profiles_are_found_by_name_and_default_is_the_default()
    {
        Assert.Equal([Default, Pvm, NoGmem, Debian], SimulatedHostProfile.Names);
        Assert.All(SimulatedHostProfile.All, p => Assert.Same(p, SimulatedHostProfile.ByName(p.Name)));
        Assert.Same(SimulatedHostProfile.Default, new SimulatedHypervisor().Profile);
        Assert.Same(SimulatedHostProfile.Kvm618Pvm, SimulatedHostProfile.ByName(Pvm));
        Assert.Same(SimulatedHostProfile.Kvm618PvmNoGuestMemfd, SimulatedHostProfile.ByName(NoGmem));
        Assert.Same(SimulatedHostProfile.Kvm72Debian, SimulatedHostProfile.ByName(Debian));
    }

    [Theory]
    [InlineData("KVM-6.18-PVM")]
    [InlineData("kvm-6.18")]
    [InlineData("")]
    public void An_unknown_name_is_refused_with_the_valid_names(string name)
    {
        var e = Assert.Throws<ArgumentException>(() => SimulatedHostProfile.ByName(name));

        Assert.Contains("valid names: default, kvm-6.18-pvm, kvm-6.18-pvm-no-gmem, kvm-7.2-debian", e.Message, StringComparison.Ordinal);
        Assert.False(SimulatedHostProfile.TryGetByName(name, out _));
    }

    [Fact]
    public void Default_reports_what_the_model_always_reported()
    {
        var caps = NewHypervisor(Default).Capabilities;

        Assert.Equal("simulated (default: KVM 6.18 semantics with every VM type)", caps.KernelVersion);
        Assert.Equal([VmType.Default, VmType.SwProtected, VmType.Snp, VmType.Tdx], caps.VmTypes);
        Assert.Equal((true, MmapShared, MemoryAttributes.Private, 32764, 1024), (caps.GuestMemfd, caps.GuestMemfdFlags, caps.MemoryAttributes, caps.MaxMemslots, caps.MaxVcpus));
        var expected = new SortedDictionary<string, long>(StringComparer.Ordinal)
        {
            ["KVM_CAP_USER_MEMORY"] = 1,
            ["KVM_CAP_NR_MEMSLOTS"] = 32764,
            ["KVM_CAP_SYNC_MMU"] = 1,
            ["KVM_CAP_MAX_VCPUS"] = 1024,
            ["KVM_CAP_READONLY_MEM"] = 1,
            ["KVM_CAP_ENABLE_CAP_VM"] = 1,
            ["KVM_CAP_CHECK_EXTENSION_VM"] = 1,
            ["KVM_CAP_X86_SMM"] = 0,
            ["KVM_CAP_MULTI_ADDRESS_SPACE"] = 0,
            ["KVM_CAP_IMMEDIATE_EXIT"] = 1,
            ["KVM_CAP_EXIT_HYPERCALL"] = 4096,
            ["KVM_CAP_USER_MEMORY2"] = 1,
            ["KVM_CAP_MEMORY_FAULT_INFO"] = 1,
            ["KVM_CAP_MEMORY_ATTRIBUTES"] = 8,
            ["KVM_CAP_GUEST_MEMFD"] = 1,
            ["KVM_CAP_VM_TYPES"] = 0x33,
            ["KVM_CAP_PRE_FAULT_MEMORY"] = 0,
            ["KVM_CAP_GUEST_MEMFD_FLAGS"] = 3,
            ["vm.KVM_CAP_GUEST_MEMFD_FLAGS"] = 3,
            ["vm.KVM_CAP_MEMORY_ATTRIBUTES"] = 0,
            ["vm.KVM_CAP_EXIT_HYPERCALL"] = 4096,
        };
        Assert.Equal(expected, new SortedDictionary<string, long>(caps.Raw.ToDictionary(), StringComparer.Ordinal));
    }

    [Theory]
    [InlineData(Pvm)]
    [InlineData(NoGmem)]
    [InlineData(Debian)]
    public void Raw_holds_every_capability_of_the_measured_host_with_its_value(string profile)
    {
        var table = profile switch
        {
            Pvm => ProbedCapabilityTables.Pvm618,
            NoGmem => ProbedCapabilityTables.Pvm618WithoutGuestMemfd,
            _ => ProbedCapabilityTables.Debian72,
        };

        var raw = NewHypervisor(profile).Capabilities.Raw;

        Assert.Equal(ProbedCapabilityTables.Raw(table), new SortedDictionary<string, long>(raw.ToDictionary(), StringComparer.Ordinal));
    }

    [Theory]
    [InlineData(Pvm, true, MmapShared, MemoryAttributes.None, 1024, "simulated (kvm-6.18-pvm: kvm_pvm 6.18, kvm/probe/results.txt)")]
    [InlineData(NoGmem, false, GuestMemfdFlags.None, MemoryAttributes.None, 1024, "simulated (kvm-6.18-pvm-no-gmem: kvm_pvm 6.18 without guest_memfd, kvm/field-reports/2026-12-04)")]
    [InlineData(Debian, true, MmapShared, MemoryAttributes.Private, 4096, "simulated (kvm-7.2-debian: Debian 7.2.13 kvm_amd (NPT, MAXPHYADDR 48), kvm/nested/results-nested.txt)")]
    public void Typed_capabilities_follow_the_host(string profile, bool gmem, GuestMemfdFlags flags, MemoryAttributes attributes, int maxVcpus, string kernel)
    {
        var caps = NewHypervisor(profile).Capabilities;

        Assert.Equal(("simulated", 12, kernel), (caps.Backend, caps.ApiVersion, caps.KernelVersion));
        Assert.Equal([VmType.Default], caps.VmTypes);
        Assert.Equal((gmem, flags, attributes), (caps.GuestMemfd, caps.GuestMemfdFlags, caps.MemoryAttributes));
        Assert.Equal((true, true, 0x1000UL, 32764, maxVcpus), (caps.UserMemory2, caps.MemoryFaultInfo, caps.ExitHypercallMask, caps.MaxMemslots, caps.MaxVcpus));
    }

    [Theory]
    [MemberData(nameof(VmTypeValues))]
    public void KVM_CREATE_VM_takes_only_the_default_type_on_the_measured_hosts_and_every_modelled_type_on_default(int type)
    {
        var vmType = (VmType)type;
        foreach (var profile in new[] { Pvm, NoGmem, Debian })
        {
            using var hv = NewHypervisor(profile);
            if (type == 0)
            {
                hv.CreateVm(vmType).Dispose();
            }
            else
            {
                var e = Assert.Throws<HypervisorException>(() => hv.CreateVm(vmType));
                Assert.Equal((Errno.EINVAL, "KVM_CREATE_VM"), (e.Errno, e.Operation));
            }
        }

        using var model = NewHypervisor(Default);
        if (vmType is VmType.Default or VmType.SwProtected or VmType.Snp or VmType.Tdx)
        {
            model.CreateVm(vmType).Dispose();
        }
        else
        {
            Assert.Equal(Errno.EINVAL, Throws(() => model.CreateVm(vmType)).Errno);
        }
    }

    [Theory]
    [InlineData(Default, VmType.Default, MmapShared, MemoryAttributes.None, false)]
    [InlineData(Default, VmType.Snp, GuestMemfdFlags.Mmap, MemoryAttributes.Private, true)]
    [InlineData(Pvm, VmType.Default, MmapShared, MemoryAttributes.None, false)]
    [InlineData(NoGmem, VmType.Default, GuestMemfdFlags.None, MemoryAttributes.None, false)]
    [InlineData(Debian, VmType.Default, MmapShared, MemoryAttributes.None, true)]
    public void VM_capabilities_follow_the_host_and_the_VM_type(string profile, VmType type, GuestMemfdFlags flags, MemoryAttributes attributes, bool ioctl)
    {
        using var vm = NewHypervisor(profile).CreateVm(type);

        Assert.Equal((flags, attributes, ioctl, 0x1000UL), (vm.Capabilities.GuestMemfdFlags, vm.Capabilities.MemoryAttributes, vm.Capabilities.MemoryAttributesIoctl, vm.Capabilities.ExitHypercallMask));
    }

    [Fact]
    public void A_variant_made_with_with_is_honoured()
    {
        var profile = SimulatedHostProfile.Kvm618Pvm with { Name = "pvm-8-vcpus", MaxVcpus = 8 };
        using var hv = new SimulatedHypervisor(new SimulatedHypervisorOptions { Profile = profile });
        using var vm = hv.CreateVm(VmType.Default);

        vm.CreateVcpu(7);

        Assert.Equal(8, hv.Capabilities.MaxVcpus);
        Assert.Equal(Errno.EINVAL, Throws(() => vm.CreateVcpu(8)).Errno);
        Assert.StartsWith("simulated (pvm-8-vcpus: ", hv.Capabilities.KernelVersion, StringComparison.Ordinal);
    }
}
