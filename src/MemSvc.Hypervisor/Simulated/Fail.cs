namespace MemSvc.Hypervisor.Simulated;

/// <summary>Builds the model's errors: the kernel's errno, the operation, why, and the struct field at fault.</summary>
internal static class Fail
{
    public static HypervisorException With(Errno errno, string operation, string reason, string argument) =>
        new(errno, operation, reason, argument);

    public static HypervisorException Inval(string operation, string reason, string argument) =>
        new(Errno.EINVAL, operation, reason, argument);

    public static HypervisorException Closed(string operation, string what) =>
        new(Errno.EBADF, operation, $"{what} is closed", "fd");
}
