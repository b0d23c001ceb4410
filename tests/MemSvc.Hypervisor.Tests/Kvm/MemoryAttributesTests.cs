namespace MemSvc.Hypervisor.Tests.Kvm;

/// <summary>Memory attributes on a kernel without KVM_SET_MEMORY_ATTRIBUTES (these machines).</summary>
public class MemoryAttributesTests
{
    [Fact]
    public void Setting_attributes_fails_with_the_kernels_ENOTTY_and_names_what_is_missing()
    {
        using var rig = new KvmRig();
        Assert.SkipWhen(rig.Vm.Capabilities.MemoryAttributesIoctl, "this kernel has KVM_SET_MEMORY_ATTRIBUTES");
        var e = KvmRig.Fails(() => rig.Vm.SetMemoryAttributes(0, 4096, MemoryAttributes.Private));
        Assert.Equal(Errno.ENOTTY, e.Errno);
        Assert.Equal("KVM_SET_MEMORY_ATTRIBUTES", e.Operation);
        Assert.Contains("KVM_CAP_MEMORY_ATTRIBUTES", e.Reason, StringComparison.Ordinal);
        Assert.Contains("CONFIG_KVM_SW_PROTECTED_VM", e.Reason, StringComparison.Ordinal);
        Assert.Contains("SEV-SNP", e.Reason, StringComparison.Ordinal);
        Assert.Contains("TDX", e.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void The_attribute_shadow_holds_only_what_was_set_successfully()
    {
        using var rig = new KvmRig();
        Assert.SkipWhen(rig.Vm.Capabilities.MemoryAttributesIoctl, "this kernel has KVM_SET_MEMORY_ATTRIBUTES");
        Assert.Throws<HypervisorException>(() => rig.Vm.SetMemoryAttributes(0, 1UL << 30, MemoryAttributes.Private));
        Assert.Equal([new AttributeRange(0, 1UL << 40, MemoryAttributes.None)], rig.Vm.GetMemoryAttributes(0, 1UL << 40));
    }
}
