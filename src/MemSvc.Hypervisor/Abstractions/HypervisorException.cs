namespace MemSvc.Hypervisor;

/// <summary>
/// A hypervisor operation failed. <see cref="Errno"/> is exactly what the kernel returned (kvm backend) or
/// would return (simulated backend); layers above map its <see cref="Meaning"/> to their own errors, keeping the
/// errno only to show it, and never inspect <see cref="Reason"/>, which is for people.
/// </summary>
public sealed class HypervisorException : Exception
{
    public HypervisorException(Errno errno, string operation, string reason)
        : base($"{operation}: {errno}: {reason}")
    {
        Errno = errno;
        Operation = operation;
        Reason = reason;
    }

    public HypervisorException(Errno errno, string operation, string reason, string argument)
        : this(errno, operation, reason)
    {
        Argument = argument;
    }

    public HypervisorException()
        : this(Errno.EIO, "unknown", "unknown failure")
    {
    }

    public HypervisorException(string message)
        : this(Errno.EIO, "unknown", message)
    {
    }

    public HypervisorException(string message, Exception innerException)
        : base(message, innerException)
    {
        Errno = Errno.EIO;
        Operation = "unknown";
        Reason = message;
    }

    /// <summary>The errno, unchanged from the kernel (or the model of it).</summary>
    public Errno Errno { get; }

    /// <summary>The ioctl or file operation, spelled as the kernel does: KVM_SET_USER_MEMORY_REGION2, fallocate.</summary>
    public string Operation { get; }

    /// <summary>What the errno means for <see cref="Operation"/>: the only thing layers above decide on.</summary>
    public KernelErrorMeaning Meaning => KernelErrorMeanings.Of(Operation, Errno);

    /// <summary>Why, in words: which check failed.</summary>
    public string Reason { get; }

    /// <summary>
    /// The argument the failing check looked at (for example "guest_memfd_offset"), when the backend knows it.
    /// The simulated backend always knows; the kvm backend only for checks it makes before the ioctl.
    /// </summary>
    public string? Argument { get; }
}
