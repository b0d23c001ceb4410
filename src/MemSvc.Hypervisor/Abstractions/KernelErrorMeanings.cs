using System.Collections.Frozen;

namespace MemSvc.Hypervisor;

/// <summary>
/// What each errno means for each operation, decided here beside the ioctls that return them, so that no layer
/// above reads an errno (they keep it only to show it). An EINVAL from KVM_CREATE_VM is an unsupported VM type, from
/// KVM_SET_USER_MEMORY_REGION2 an invalid memslot; an ENOTTY is a capability the host lacks.
/// </summary>
public static class KernelErrorMeanings
{
    /// <summary>The reason of a refusal without a precise meaning; the errno then travels with it.</summary>
    public const string KernelError = "KERNEL_ERROR";

    private static readonly FrozenDictionary<Errno, HypervisorErrorKind> Kinds = new Dictionary<Errno, HypervisorErrorKind>
    {
        [Errno.EINVAL] = HypervisorErrorKind.InvalidArgument,
        [Errno.EEXIST] = HypervisorErrorKind.AlreadyExists,
        [Errno.EBADF] = HypervisorErrorKind.NotFound,
        [Errno.ENOENT] = HypervisorErrorKind.NotFound,
        [Errno.ENOMEM] = HypervisorErrorKind.ResourceExhausted,
        [Errno.ENOSPC] = HypervisorErrorKind.ResourceExhausted,
        [Errno.ENOTTY] = HypervisorErrorKind.FailedPrecondition,
        [Errno.EOPNOTSUPP] = HypervisorErrorKind.FailedPrecondition,
        [Errno.ENODEV] = HypervisorErrorKind.FailedPrecondition,
        [Errno.EFAULT] = HypervisorErrorKind.FailedPrecondition,
        [Errno.EFBIG] = HypervisorErrorKind.OutOfRange,
        [Errno.EOVERFLOW] = HypervisorErrorKind.OutOfRange,
        [Errno.EPERM] = HypervisorErrorKind.PermissionDenied,
    }.ToFrozenDictionary();

    /// <summary>Where the operation gives the errno a precise meaning, the reason a client can branch on.</summary>
    private static readonly FrozenDictionary<(string Operation, Errno Errno), string> Reasons = new Dictionary<(string, Errno), string>
    {
        [("KVM_CREATE_VM", Errno.EINVAL)] = "VM_TYPE_UNSUPPORTED",
        [("KVM_CREATE_GUEST_MEMFD", Errno.EINVAL)] = "GUEST_MEMFD_INVALID",
        [("KVM_CREATE_GUEST_MEMFD", Errno.ENOTTY)] = "GUEST_MEMFD_UNSUPPORTED",
        [("KVM_SET_USER_MEMORY_REGION2", Errno.EINVAL)] = "MEMORY_REGION_INVALID",
        [("KVM_SET_USER_MEMORY_REGION2", Errno.EEXIST)] = "MEMORY_REGION_OVERLAP",
        [("KVM_SET_USER_MEMORY_REGION2", Errno.EBADF)] = "GUEST_MEMFD_BAD_FD",
        [("KVM_SET_USER_MEMORY_REGION2", Errno.ENOTTY)] = "USER_MEMORY2_UNSUPPORTED",
        [("KVM_SET_USER_MEMORY_REGION", Errno.EINVAL)] = "MEMORY_REGION_INVALID",
        [("KVM_SET_USER_MEMORY_REGION", Errno.EEXIST)] = "MEMORY_REGION_OVERLAP",
        [("KVM_SET_MEMORY_ATTRIBUTES", Errno.EINVAL)] = "MEMORY_ATTRIBUTES_INVALID",
        [("KVM_SET_MEMORY_ATTRIBUTES", Errno.ENOTTY)] = "MEMORY_ATTRIBUTES_UNSUPPORTED",
        [("fallocate", Errno.EINVAL)] = "FALLOCATE_RANGE_INVALID",
        [("fallocate", Errno.EOPNOTSUPP)] = "FALLOCATE_MODE_UNSUPPORTED",
        [("KVM_ENABLE_CAP", Errno.EINVAL)] = "EXIT_HYPERCALL_UNSUPPORTED",
        [("mmap", Errno.ENODEV)] = "GUEST_MEMFD_NOT_MAPPABLE",
        [("mmap", Errno.EBADF)] = "GUEST_MEMFD_CLOSED",
        [("mmap", Errno.EINVAL)] = "GUEST_MEMFD_MAPPING_INVALID",

        // file_mmap_ok: offset + length ends past the largest file offset (2^63 - 1).
        [("mmap", Errno.EOVERFLOW)] = "GUEST_MEMFD_MAPPING_INVALID",
        [("mmap", Errno.ENOMEM)] = "ADDRESS_SPACE_EXHAUSTED",
        [("ReadSharedMemory", Errno.EFAULT)] = "GPA_NOT_MAPPED",
        [("WriteSharedMemory", Errno.EFAULT)] = "GPA_NOT_MAPPED",
    }.ToFrozenDictionary();

    /// <summary>The capability an operation needs: its ENOTTY, EOPNOTSUPP or ENODEV says the host lacks it.</summary>
    private static readonly FrozenDictionary<string, string> Capabilities = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["KVM_CREATE_GUEST_MEMFD"] = "KVM_CAP_GUEST_MEMFD",
        ["KVM_SET_USER_MEMORY_REGION2"] = "KVM_CAP_USER_MEMORY2",
        ["KVM_SET_MEMORY_ATTRIBUTES"] = "KVM_CAP_MEMORY_ATTRIBUTES",
        ["KVM_ENABLE_CAP"] = "KVM_CAP_EXIT_HYPERCALL",
    }.ToFrozenDictionary(StringComparer.Ordinal);

    /// <summary>Every reason a refusal can be given, for the test that holds them to the contract.</summary>
    public static IEnumerable<string> AllReasons => Reasons.Values.Append(KernelError).Distinct(StringComparer.Ordinal);

    public static KernelErrorMeaning Of(string operation, Errno errno)
    {
        var missing = errno is Errno.ENOTTY or Errno.EOPNOTSUPP or Errno.ENODEV && Capabilities.TryGetValue(operation, out var capability) ? capability : null;
        return new KernelErrorMeaning(
            Kinds.GetValueOrDefault(errno, HypervisorErrorKind.Internal),
            Reasons.GetValueOrDefault((operation, errno), KernelError),
            missing);
    }
}
