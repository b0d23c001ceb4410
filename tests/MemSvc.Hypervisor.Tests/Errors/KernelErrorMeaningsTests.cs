using MemSvc.Hypervisor;

namespace MemSvc.Hypervisor.Tests.Errors;

/// <summary>What an errno means is decided by the operation that returned it, here in Hypervisor, not above.</summary>
public sealed class KernelErrorMeaningsTests
{
    public static TheoryData<string, Errno, HypervisorErrorKind, string, string?> Rows => new()
    {
        // The same EINVAL, three meanings.
        { "KVM_CREATE_VM", Errno.EINVAL, HypervisorErrorKind.InvalidArgument, "VM_TYPE_UNSUPPORTED", null },
        { "KVM_SET_USER_MEMORY_REGION2", Errno.EINVAL, HypervisorErrorKind.InvalidArgument, "MEMORY_REGION_INVALID", null },
        { "KVM_SET_MEMORY_ATTRIBUTES", Errno.EINVAL, HypervisorErrorKind.InvalidArgument, "MEMORY_ATTRIBUTES_INVALID", null },

        // A missing ioctl or mode names the capability; the same ENODEV elsewhere names none.
        { "KVM_CREATE_GUEST_MEMFD", Errno.ENOTTY, HypervisorErrorKind.FailedPrecondition, "GUEST_MEMFD_UNSUPPORTED", "KVM_CAP_GUEST_MEMFD" },
        { "KVM_SET_MEMORY_ATTRIBUTES", Errno.ENOTTY, HypervisorErrorKind.FailedPrecondition, "MEMORY_ATTRIBUTES_UNSUPPORTED", "KVM_CAP_MEMORY_ATTRIBUTES" },
        { "mmap", Errno.ENODEV, HypervisorErrorKind.FailedPrecondition, "GUEST_MEMFD_NOT_MAPPABLE", null },

        // Kinds by errno where the operation adds nothing: the errno then travels with KERNEL_ERROR.
        { "KVM_SET_USER_MEMORY_REGION2", Errno.EEXIST, HypervisorErrorKind.AlreadyExists, "MEMORY_REGION_OVERLAP", null },
        { "mmap", Errno.ENOMEM, HypervisorErrorKind.ResourceExhausted, "ADDRESS_SPACE_EXHAUSTED", null },
        { "mmap", Errno.EOVERFLOW, HypervisorErrorKind.OutOfRange, "GUEST_MEMFD_MAPPING_INVALID", null },
        { "fallocate", Errno.ENOSPC, HypervisorErrorKind.ResourceExhausted, "KERNEL_ERROR", null },
        { "fallocate", Errno.EFBIG, HypervisorErrorKind.OutOfRange, "KERNEL_ERROR", null },
        { "KVM_SET_USER_MEMORY_REGION2", Errno.EPERM, HypervisorErrorKind.PermissionDenied, "KERNEL_ERROR", null },
        { "KVM_RUN", Errno.EIO, HypervisorErrorKind.Internal, "KERNEL_ERROR", null },
        { "KVM_RUN", Errno.EHWPOISON, HypervisorErrorKind.Internal, "KERNEL_ERROR", null },
    };

    [Theory]
    [MemberData(nameof(Rows))]
    public void An_errno_means_what_its_operation_makes_of_it(string operation, Errno errno, HypervisorErrorKind kind, string reason, string? capability)
    {
        Assert.Equal(new KernelErrorMeaning(kind, reason, capability), KernelErrorMeanings.Of(operation, errno));
        Assert.Equal(new KernelErrorMeaning(kind, reason, capability), new HypervisorException(errno, operation, "why").Meaning);
    }
}
