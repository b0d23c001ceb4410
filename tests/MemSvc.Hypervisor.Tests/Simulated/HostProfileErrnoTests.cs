using MemSvc.Hypervisor.Simulated;
using static MemSvc.Hypervisor.Tests.Simulated.Sim;

namespace MemSvc.Hypervisor.Tests.Simulated;

/// <summary>
/// The ioctl answers that differ between the measured hosts, each against the row it comes from: results.txt
/// (kvm-6.18-pvm), the field report (kvm-6.18-pvm-no-gmem), results-nested.txt (kvm-7.2-debian).
/// </summary>
public class HostProfileErrnoTests
{
    private const string Default = "default";
    private const string Pvm = "kvm-6.18-pvm";
    private const string NoGmem = "kvm-6.18-pvm-no-gmem";
    private const string Debian = "kvm-7.2-debian";
    private const MemoryRegionFlags Gmf = MemoryRegionFlags.GuestMemfd;

    [Theory]
    [InlineData(M2, GuestMemfdFlags.None)]
    [InlineData(M2, GuestMemfdFlags.Mmap | GuestMemfdFlags.InitShared)]
    [InlineData(0UL, (GuestMemfdFlags)(1UL << 63))] // arguments kvm_gmem_create would refuse: the ioctl is unknown first
    public void Without_guest_memfd_KVM_CREATE_GUEST_MEMFD_is_ENOTTY(ulong size, GuestMemfdFlags flags)
    {
        using var vm = NewHypervisor(NoGmem).CreateVm(VmType.Default);

        var e = Throws(() => vm.CreateGuestMemfd(size, flags));

        Assert.Equal((Errno.ENOTTY, "KVM_CREATE_GUEST_MEMFD"), (e.Errno, e.Operation));
    }

    // check_memory_region_flags accepts KVM_MEM_GUEST_MEMFD only with CONFIG_KVM_GUEST_MEMFD (kernel source; the
    // field report's host could not be asked, every errno row died creating its guest_memfd first).
    [Fact]
    public void Without_guest_memfd_the_GUEST_MEMFD_memslot_flag_is_EINVAL_and_plain_slots_work()
    {
        using var vm = NewHypervisor(NoGmem).CreateVm(VmType.Default);

        var e = Throws(() => vm.SetUserMemoryRegion(new MemoryRegion(0, Gmf, 0, M2, SharedBacking.Anonymous)));
        vm.SetUserMemoryRegion(new MemoryRegion(0, MemoryRegionFlags.ReadOnly, 0, M2, SharedBacking.Anonymous));

        Assert.Equal((Errno.EINVAL, "flags"), (e.Errno, e.Argument));
    }

    [Fact]
    public void Without_guest_memfd_a_default_VM_runs_a_guest_program_over_anonymous_memory()
    {
        using var vm = NewHypervisor(NoGmem).CreateVm(VmType.Default);
        vm.SetUserMemoryRegion(new MemoryRegion(1, MemoryRegionFlags.None, M2, M2, SharedBacking.Anonymous));
        vm.WriteSharedMemory(M2 + K4, [0x5a, 0x5a]);
        using var vcpu = vm.CreateVcpu(0);
        vcpu.LoadProgram(Program(Check(M2 + K4, 2, 0x5a), Write(M2, 16, 0xc3), new GuestStep.Report(7), new GuestStep.Halt()));

        Assert.Equal(new VmExit.PortIo(GuestProgram.ReportPort, true, 4, 7), vcpu.Run());
        Assert.Equal(new VmExit.Halt(), vcpu.Run());
        Assert.Equal(Enumerable.Repeat((byte)0xc3, 16), ReadShared(vm, M2, 16));
    }

    [Theory]
    [InlineData(Pvm, MemoryAttributes.Private, 0UL, 0UL)]  // results.txt attrs: "PRIVATE on gpa 0 size 4K"
    [InlineData(Pvm, MemoryAttributes.None, 0UL, 0UL)]     // "attrs=0 (shared)"
    [InlineData(Pvm, MemoryAttributes.None, 0x800UL, 1UL)] // "unaligned, flags=1 (garbage)"
    [InlineData(NoGmem, MemoryAttributes.Private, 0UL, 0UL)]
    [InlineData(NoGmem, MemoryAttributes.None, 0UL, 0UL)]
    [InlineData(Default, MemoryAttributes.None, 0UL, 0UL)]
    public void On_6_18_KVM_SET_MEMORY_ATTRIBUTES_is_ENOTTY_on_a_default_VM_whatever_the_arguments(string profile, MemoryAttributes attributes, ulong address, ulong flags)
    {
        using var vm = NewHypervisor(profile).CreateVm(VmType.Default);

        var e = Throws(() => vm.SetMemoryAttributes(address, K4, attributes, flags));

        Assert.Equal((Errno.ENOTTY, "KVM_SET_MEMORY_ATTRIBUTES"), (e.Errno, e.Operation));
    }

    [Fact]
    public void On_7_2_KVM_SET_MEMORY_ATTRIBUTES_takes_0_and_refuses_PRIVATE_and_garbage_with_EINVAL()
    {
        using var vm = NewHypervisor(Debian).CreateVm(VmType.Default);

        var privateAttr = Throws(() => vm.SetMemoryAttributes(0, K4, MemoryAttributes.Private));       // results-nested: EINVAL
        vm.SetMemoryAttributes(0, K4, MemoryAttributes.None);                                          // OK
        var garbage = Throws(() => vm.SetMemoryAttributes(0x800, K4, MemoryAttributes.None, flags: 1)); // EINVAL

        Assert.Equal((Errno.EINVAL, "attributes"), (privateAttr.Errno, privateAttr.Argument));
        Assert.Equal((Errno.EINVAL, "flags"), (garbage.Errno, garbage.Argument));
        Assert.Equal([new AttributeRange(0, K4, MemoryAttributes.None)], vm.GetMemoryAttributes(0, K4));
    }

    // errno_table's "same gmem range as slot0 (gpa=8M off=0 size=2M)" and "gmem range partially overlapping slot0
    // (off=1M size=2M)": EINVAL on 6.18, EEXIST on 7.2. The adjacent range binds on both.
    [Theory]
    [InlineData(Default, Errno.EINVAL)]
    [InlineData(Pvm, Errno.EINVAL)]
    [InlineData(Debian, Errno.EEXIST)]
    public void Binding_a_guest_memfd_range_another_slot_binds_is_EINVAL_on_6_18_and_EEXIST_on_7_2(string profile, Errno expected)
    {
        using var vm = NewHypervisor(profile).CreateSimulatedVm(VmType.Default);
        using var gmem = vm.CreateGuestMemfd(4 * M, GuestMemfdFlags.None);
        vm.SetUserMemoryRegion(new MemoryRegion(0, Gmf, 0, M2, SharedBacking.Anonymous, gmem, 0));

        var same = Throws(() => vm.SetUserMemoryRegion(new MemoryRegion(1, Gmf, 8 * M, M2, SharedBacking.Anonymous, gmem, 0)));
        var partial = Throws(() => vm.SetUserMemoryRegion(new MemoryRegion(1, Gmf, 8 * M, M2, SharedBacking.Anonymous, gmem, M)));
        vm.SetUserMemoryRegion(new MemoryRegion(1, Gmf, 8 * M, M2, SharedBacking.Anonymous, gmem, M2));

        Assert.Equal((expected, expected), (same.Errno, partial.Errno));
        Assert.Equal(2, vm.MemslotCount);
    }

    // errno_table's "address space 1 (slot = 1<<16 | 1)": EINVAL without SMM, OK on 7.2.
    [Theory]
    [InlineData(Default)]
    [InlineData(Pvm)]
    [InlineData(NoGmem)]
    public void Without_SMM_address_space_1_is_EINVAL(string profile)
    {
        using var vm = NewHypervisor(profile).CreateVm(VmType.Default);

        var e = Throws(() => vm.SetUserMemoryRegion(new MemoryRegion((1 << 16) | 1, MemoryRegionFlags.None, 8 * M, M2, SharedBacking.Anonymous)));

        Assert.Equal((Errno.EINVAL, "slot"), (e.Errno, e.Argument));
    }

    [Fact]
    public void On_7_2_address_space_1_has_its_own_ids_and_gpas_and_the_guest_does_not_see_it()
    {
        using var vm = NewHypervisor(Debian).CreateSimulatedVm(VmType.Default);
        const uint smmSlot1 = (1 << 16) | 1;

        vm.SetUserMemoryRegion(new MemoryRegion(smmSlot1, MemoryRegionFlags.None, 8 * M, M2, SharedBacking.Anonymous));
        vm.SetUserMemoryRegion(new MemoryRegion(1, MemoryRegionFlags.None, 8 * M, M2, SharedBacking.Anonymous));
        var overlap = Throws(() => vm.SetUserMemoryRegion(new MemoryRegion((1 << 16) | 2, MemoryRegionFlags.None, 9 * M, M2, SharedBacking.Anonymous)));
        var beyond = Throws(() => vm.SetUserMemoryRegion(new MemoryRegion((2 << 16) | 1, MemoryRegionFlags.None, 16 * M, M2, SharedBacking.Anonymous)));
        vm.SetUserMemoryRegion(MemoryRegion.Delete(1));

        Assert.Equal((Errno.EEXIST, Errno.EINVAL), (overlap.Errno, beyond.Errno));
        Assert.Equal(1, vm.MemslotCount);
        Assert.NotEqual(0UL, vm.GetUserspaceAddress(smmSlot1));
        Assert.Equal(new VmExit.Mmio(8 * M, 1, false), RunProgram(vm, Check(8 * M, 1, 0)));
    }

    // errno_table's gpa rows: the shadow MMU's 2^52 on 6.18; MAXPHYADDR 48 under NPT on 7.2.
    [Theory]
    [InlineData(Pvm, 1UL << 48, true)]
    [InlineData(Pvm, (1UL << 52) - M2, true)]
    [InlineData(Pvm, 1UL << 52, false)]
    [InlineData(Default, (1UL << 52) - M2, true)]
    [InlineData(Debian, (1UL << 48) - M2, true)]
    [InlineData(Debian, 1UL << 48, false)]
    [InlineData(Debian, (1UL << 52) - M2, false)]
    public void The_highest_gpa_a_slot_may_reach_follows_the_host(string profile, ulong gpa, bool accepted)
    {
        using var vm = NewHypervisor(profile).CreateVm(VmType.Default);
        var region = new MemoryRegion(1, MemoryRegionFlags.None, gpa, M2, SharedBacking.Anonymous);

        if (accepted)
        {
            vm.SetUserMemoryRegion(region);
        }
        else
        {
            var e = Throws(() => vm.SetUserMemoryRegion(region));
            Assert.Equal((Errno.EINVAL, "guest_phys_addr"), (e.Errno, e.Argument));
        }
    }

    [Theory]
    [InlineData(Pvm, 1024)]
    [InlineData(NoGmem, 1024)]
    [InlineData(Debian, 4096)]
    public void vCPU_ids_stop_at_the_hosts_MAX_VCPUS(string profile, int maxVcpus)
    {
        using var vm = NewHypervisor(profile).CreateVm(VmType.Default);

        vm.CreateVcpu(maxVcpus - 1).Dispose();

        Assert.Equal(Errno.EINVAL, Throws(() => vm.CreateVcpu(maxVcpus)).Errno);
    }
}
