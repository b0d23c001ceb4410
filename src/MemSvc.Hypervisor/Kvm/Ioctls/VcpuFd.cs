using System.Runtime.InteropServices;

namespace MemSvc.Hypervisor.Kvm;

/// <summary>A vCPU fd and its vCPU ioctls (kvm-ioctls' VcpuFd).</summary>
internal sealed class VcpuFd : IDisposable
{
    public VcpuFd(FileDescriptor fd)
    {
        Handle = fd;
    }

    public FileDescriptor Handle { get; }

    /// <summary>
    /// KVM_RUN. Returns 0 or the errno rather than throwing: EINTR, EFAULT and EHWPOISON are ordinary exits
    /// here, and the run loop decides which errno carries a valid exit_reason.
    /// </summary>
    public int Run()
    {
        var result = LibC.Ioctl(Handle, (nuint)KvmIoctls.Run, 0);
        return result < 0 ? Marshal.GetLastPInvokeError() : 0;
    }

    /// <summary>The shared kvm_run page(s): mmap of the vCPU fd at offset 0.</summary>
    public MappedMemory MapRun(int mmapSize) => MappedMemory.OfFile(Handle, 0, (ulong)mmapSize);

    /// <summary>KVM_GET_REGS.</summary>
    public KvmRegs GetRegs()
    {
        var regs = default(KvmRegs);
        Ioctl.Struct(Handle, "KVM_GET_REGS", KvmIoctls.GetRegs, ref regs);
        return regs;
    }

    /// <summary>KVM_SET_REGS.</summary>
    public void SetRegs(KvmRegs regs) => Ioctl.Struct(Handle, "KVM_SET_REGS", KvmIoctls.SetRegs, ref regs);

    /// <summary>KVM_GET_SREGS.</summary>
    public KvmSregs GetSregs()
    {
        var sregs = default(KvmSregs);
        Ioctl.Struct(Handle, "KVM_GET_SREGS", KvmIoctls.GetSregs, ref sregs);
        return sregs;
    }

    /// <summary>KVM_SET_SREGS.</summary>
    public void SetSregs(KvmSregs sregs) => Ioctl.Struct(Handle, "KVM_SET_SREGS", KvmIoctls.SetSregs, ref sregs);

    /// <summary>KVM_SET_CPUID2 with <paramref name="entries"/>.</summary>
    public void SetCpuid2(ReadOnlySpan<KvmCpuidEntry2> entries)
    {
        var buffer = new byte[KvmCpuid2.HeaderSize + (entries.Length * UapiSize.Of<KvmCpuidEntry2>())];
        MemoryMarshal.Write(buffer, new KvmCpuid2 { Nent = (uint)entries.Length });
        MemoryMarshal.AsBytes(entries).CopyTo(buffer.AsSpan(KvmCpuid2.HeaderSize));
        Ioctl.Buffer(Handle, "KVM_SET_CPUID2", KvmIoctls.SetCpuid2, buffer);
    }

    public void Dispose() => Handle.Dispose();
}
