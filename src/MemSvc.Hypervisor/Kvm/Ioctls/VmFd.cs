namespace MemSvc.Hypervisor.Kvm;

/// <summary>A VM fd and its VM ioctls (kvm-ioctls' VmFd). Each method is one ioctl; errno is kept.</summary>
internal sealed class VmFd : IDisposable
{
    public VmFd(FileDescriptor fd)
    {
        Handle = fd;
    }

    public FileDescriptor Handle { get; }

    /// <summary>KVM_CHECK_EXTENSION on the VM: the answer for this VM's type.</summary>
    public int CheckExtension(int capability) =>
        Ioctl.Value(Handle, "KVM_CHECK_EXTENSION", KvmIoctls.CheckExtension, (ulong)capability);

    /// <summary>KVM_CREATE_GUEST_MEMFD.</summary>
    public GuestMemfdFd CreateGuestMemfd(ref KvmCreateGuestMemfd request) =>
        new(new FileDescriptor(Ioctl.Struct(Handle, "KVM_CREATE_GUEST_MEMFD", KvmIoctls.CreateGuestMemfd, ref request)));

    /// <summary>KVM_SET_USER_MEMORY_REGION2.</summary>
    public void SetUserMemoryRegion2(ref KvmUserspaceMemoryRegion2 region) =>
        Ioctl.Struct(Handle, "KVM_SET_USER_MEMORY_REGION2", KvmIoctls.SetUserMemoryRegion2, ref region);

    /// <summary>KVM_SET_USER_MEMORY_REGION (v1).</summary>
    public void SetUserMemoryRegion(ref KvmUserspaceMemoryRegion region) =>
        Ioctl.Struct(Handle, "KVM_SET_USER_MEMORY_REGION", KvmIoctls.SetUserMemoryRegion, ref region);

    /// <summary>KVM_SET_MEMORY_ATTRIBUTES.</summary>
    public void SetMemoryAttributes(ref KvmMemoryAttributes attributes) =>
        Ioctl.Struct(Handle, "KVM_SET_MEMORY_ATTRIBUTES", KvmIoctls.SetMemoryAttributes, ref attributes);

    /// <summary>KVM_ENABLE_CAP on the VM.</summary>
    public void EnableCap(ref KvmEnableCap capability) =>
        Ioctl.Struct(Handle, "KVM_ENABLE_CAP", KvmIoctls.EnableCap, ref capability);

    /// <summary>KVM_CREATE_VCPU.</summary>
    public VcpuFd CreateVcpu(int id) =>
        new(new FileDescriptor(Ioctl.Value(Handle, "KVM_CREATE_VCPU", KvmIoctls.CreateVcpu, (ulong)id)));

    public void Dispose() => Handle.Dispose();
}
