using System.Runtime.InteropServices;

namespace MemSvc.Hypervisor.Kvm;

/// <summary>The /dev/kvm fd and its system ioctls (kvm-ioctls' Kvm).</summary>
internal sealed class KvmSystem : IDisposable
{
    public const string DevicePath = "/dev/kvm";

    private KvmSystem(FileDescriptor fd)
    {
        Handle = fd;
    }

    public FileDescriptor Handle { get; }

    public static KvmSystem Open(string path = DevicePath) => new(FileDescriptor.Open(path, LibC.O_RDWR));

    /// <summary>KVM_GET_API_VERSION.</summary>
    public int GetApiVersion() => Ioctl.Value(Handle, "KVM_GET_API_VERSION", KvmIoctls.GetApiVersion, 0);

    /// <summary>KVM_CHECK_EXTENSION on /dev/kvm.</summary>
    public int CheckExtension(int capability) =>
        Ioctl.Value(Handle, "KVM_CHECK_EXTENSION", KvmIoctls.CheckExtension, (ulong)capability);

    /// <summary>KVM_CREATE_VM.</summary>
    public VmFd CreateVm(ulong type) =>
        new(new FileDescriptor(Ioctl.Value(Handle, "KVM_CREATE_VM", KvmIoctls.CreateVm, type)));

    /// <summary>KVM_GET_VCPU_MMAP_SIZE: bytes to mmap from a vCPU fd for its kvm_run.</summary>
    public int GetVcpuMmapSize() => Ioctl.Value(Handle, "KVM_GET_VCPU_MMAP_SIZE", KvmIoctls.GetVcpuMmapSize, 0);

    /// <summary>KVM_GET_SUPPORTED_CPUID, growing the buffer while the kernel says E2BIG.</summary>
    public KvmCpuidEntry2[] GetSupportedCpuid()
    {
        for (var capacity = 256; ; capacity *= 2)
        {
            var buffer = new byte[KvmCpuid2.HeaderSize + (capacity * UapiSize.Of<KvmCpuidEntry2>())];
            MemoryMarshal.Write(buffer, new KvmCpuid2 { Nent = (uint)capacity });
            try
            {
                Ioctl.Buffer(Handle, "KVM_GET_SUPPORTED_CPUID", KvmIoctls.GetSupportedCpuid, buffer);
            }
            catch (HypervisorException e) when ((int)e.Errno == 7 && capacity < 65536)
            {
                // E2BIG: more entries than the buffer holds.
                continue;
            }

            var count = (int)MemoryMarshal.Read<KvmCpuid2>(buffer).Nent;
            return MemoryMarshal.Cast<byte, KvmCpuidEntry2>(buffer.AsSpan(KvmCpuid2.HeaderSize))[..count].ToArray();
        }
    }

    public void Dispose() => Handle.Dispose();
}
