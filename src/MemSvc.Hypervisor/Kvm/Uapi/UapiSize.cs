using System.Runtime.CompilerServices;

namespace MemSvc.Hypervisor.Kvm;

internal static class UapiSize
{
    /// <summary>sizeof(T) as the kernel sees it: the structs are blittable, so the managed size is the C size.</summary>
    public static int Of<T>()
        where T : unmanaged => Unsafe.SizeOf<T>();
}
