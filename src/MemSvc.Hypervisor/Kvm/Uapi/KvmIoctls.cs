namespace MemSvc.Hypervisor.Kvm;

/// <summary>
/// KVM ioctl request numbers, built with the kernel's _IOC encoding (asm-generic/ioctl.h) from the sizes of the
/// structs declared in Uapi/, so that a wrong struct size would also show as a wrong request number.
/// </summary>
internal static class KvmIoctls
{
    private const uint KvmIo = 0xAE;
    private const uint None = 0;
    private const uint Write = 1;
    private const uint Read = 2;

    public static readonly ulong GetApiVersion = Io(0x00);
    public static readonly ulong CreateVm = Io(0x01);
    public static readonly ulong CheckExtension = Io(0x03);
    public static readonly ulong GetVcpuMmapSize = Io(0x04);
    public static readonly ulong GetSupportedCpuid = Iowr(0x05, KvmCpuid2.HeaderSize);
    public static readonly ulong CreateVcpu = Io(0x41);
    public static readonly ulong SetUserMemoryRegion = Iow(0x46, UapiSize.Of<KvmUserspaceMemoryRegion>());
    public static readonly ulong SetUserMemoryRegion2 = Iow(0x49, UapiSize.Of<KvmUserspaceMemoryRegion2>());
    public static readonly ulong Run = Io(0x80);
    public static readonly ulong GetRegs = Ior(0x81, UapiSize.Of<KvmRegs>());
    public static readonly ulong SetRegs = Iow(0x82, UapiSize.Of<KvmRegs>());
    public static readonly ulong GetSregs = Ior(0x83, UapiSize.Of<KvmSregs>());
    public static readonly ulong SetSregs = Iow(0x84, UapiSize.Of<KvmSregs>());
    public static readonly ulong SetCpuid2 = Iow(0x90, KvmCpuid2.HeaderSize);
    public static readonly ulong EnableCap = Iow(0xA3, UapiSize.Of<KvmEnableCap>());
    public static readonly ulong SetMemoryAttributes = Iow(0xD2, UapiSize.Of<KvmMemoryAttributes>());
    public static readonly ulong CreateGuestMemfd = Iowr(0xD4, UapiSize.Of<KvmCreateGuestMemfd>());

    private static ulong Io(uint nr) => Ioc(None, nr, 0);

    private static ulong Iow(uint nr, int size) => Ioc(Write, nr, size);

    private static ulong Ior(uint nr, int size) => Ioc(Read, nr, size);

    private static ulong Iowr(uint nr, int size) => Ioc(Read | Write, nr, size);

    // _IOC(dir, type, nr, size): dir in bits 30-31, size in 16-29, type in 8-15, nr in 0-7.
    private static ulong Ioc(uint direction, uint nr, int size) =>
        ((ulong)direction << 30) | ((ulong)(uint)size << 16) | (KvmIo << 8) | nr;
}
