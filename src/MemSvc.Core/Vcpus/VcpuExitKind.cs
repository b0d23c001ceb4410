using MemSvc.Hypervisor;

namespace MemSvc.Core.Vcpus;

/// <summary>Why KVM_RUN returned, as counted per vCPU and in the exits metric.</summary>
public enum VcpuExitKind
{
    Unspecified = 0,
    MemoryFault = 1,
    Hypercall = 2,
    PortIo = 3,
    Mmio = 4,
    Halt = 5,
    Shutdown = 6,
    InternalError = 7,
    Interrupted = 8,
    GuestAbort = 9,

    /// <summary>KVM_RUN itself failed (a HypervisorException).</summary>
    RunError = 10,
}

internal static class VcpuExitKinds
{
    public const int Count = 11;

    public static VcpuExitKind Of(VmExit exit) => exit switch
    {
        VmExit.MemoryFault => VcpuExitKind.MemoryFault,
        VmExit.MapGpaRange => VcpuExitKind.Hypercall,
        VmExit.PortIo => VcpuExitKind.PortIo,
        VmExit.Mmio => VcpuExitKind.Mmio,
        VmExit.Halt => VcpuExitKind.Halt,
        VmExit.Shutdown => VcpuExitKind.Shutdown,
        VmExit.InternalError => VcpuExitKind.InternalError,
        VmExit.Interrupted => VcpuExitKind.Interrupted,
        VmExit.GuestAbort => VcpuExitKind.GuestAbort,
        _ => VcpuExitKind.Unspecified,
    };

    // Constant strings for the exits metric's reason tag.
    public static string MetricName(VcpuExitKind kind) => kind switch
    {
        VcpuExitKind.MemoryFault => "memory_fault",
        VcpuExitKind.Hypercall => "hypercall",
        VcpuExitKind.PortIo => "io",
        VcpuExitKind.Mmio => "mmio",
        VcpuExitKind.Halt => "hlt",
        VcpuExitKind.Shutdown => "shutdown",
        VcpuExitKind.InternalError => "internal_error",
        VcpuExitKind.Interrupted => "intr",
        VcpuExitKind.GuestAbort => "guest_abort",
        VcpuExitKind.RunError => "run_error",
        _ => "unspecified",
    };
}
