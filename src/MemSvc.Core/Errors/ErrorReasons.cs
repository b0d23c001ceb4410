namespace MemSvc.Core.Errors;

/// <summary>
/// The stable UPPER_SNAKE reasons Core reports (google.rpc.ErrorInfo.reason). Clients branch on these, so a
/// reason is never renamed once published; new situations get new reasons. Each is a value of the contract's
/// memsvc.v1.ErrorReason (protos/memsvc/v1/error_reason.proto), which this layer cannot see: a server test holds
/// the two to each other.
/// </summary>
public static class ErrorReasons
{
    public const string Internal = "INTERNAL";
    public const string InvalidCaller = "INVALID_CALLER";
    public const string InvalidVmId = "INVALID_VM_ID";
    public const string VmNotFound = "VM_NOT_FOUND";
    public const string VmAlreadyExists = "VM_ALREADY_EXISTS";
    public const string VmReplaced = "VM_REPLACED";
    public const string VmLost = "VM_LOST";
    public const string VmNameAmbiguous = "VM_NAME_AMBIGUOUS";
    public const string InvalidVmUid = "INVALID_VM_UID";
    public const string BackendUnavailable = "BACKEND_UNAVAILABLE";
    public const string VmTypeUnsupported = "VM_TYPE_UNSUPPORTED";
    public const string InvalidVcpuCount = "INVALID_VCPU_COUNT";
    public const string InvalidFaultPolicy = "INVALID_FAULT_POLICY";
    public const string InvalidResolutionTimeout = "INVALID_RESOLUTION_TIMEOUT";
    public const string InvalidFallbackAction = "INVALID_FALLBACK_ACTION";
    public const string InvalidPageSize = "INVALID_PAGE_SIZE";
    public const string InvalidPageToken = "INVALID_PAGE_TOKEN";
    public const string QuotaExceeded = "QUOTA_EXCEEDED";
    public const string HostMemoryExhausted = "HOST_MEMORY_EXHAUSTED";

    public const string InvalidSize = "INVALID_SIZE";
    public const string InvalidAddress = "INVALID_ADDRESS";
    public const string InvalidOffset = "INVALID_OFFSET";
    public const string RangeOverflow = "RANGE_OVERFLOW";
    public const string TransferTooLarge = "TRANSFER_TOO_LARGE";
    public const string GuestMemfdNotFound = "GUEST_MEMFD_NOT_FOUND";
    public const string GuestMemfdRequired = "GUEST_MEMFD_REQUIRED";
    public const string GuestMemfdFlagMismatch = "GUEST_MEMFD_FLAG_MISMATCH";
    public const string InvalidSharedBacking = "INVALID_SHARED_BACKING";
    public const string MemoryRegionNotFound = "MEMORY_REGION_NOT_FOUND";
    public const string MemoryRegionExists = "MEMORY_REGION_EXISTS";
    public const string RegionNotGmemOnly = "REGION_NOT_GMEM_ONLY";
    public const string RangeNotPrivateCapable = "RANGE_NOT_PRIVATE_CAPABLE";
    public const string MemoryIsPrivate = "MEMORY_IS_PRIVATE";

    public const string VcpuNotFound = "VCPU_NOT_FOUND";
    public const string VcpuBusy = "VCPU_BUSY";
    public const string VcpuNotRunning = "VCPU_NOT_RUNNING";
    public const string VcpuFinished = "VCPU_FINISHED";
    public const string NoProgramLoaded = "NO_PROGRAM_LOADED";
    public const string InvalidGuestProgram = "INVALID_GUEST_PROGRAM";

    public const string FaultNotFound = "FAULT_NOT_FOUND";
    public const string FaultAlreadyResolved = "FAULT_ALREADY_RESOLVED";
    public const string FaultTimedOut = "FAULT_TIMED_OUT";
    public const string InvalidFaultAction = "INVALID_FAULT_ACTION";
    public const string RetryNotAllowed = "RETRY_NOT_ALLOWED";

    public const string SequenceCompacted = "SEQUENCE_COMPACTED";
    public const string SequenceBeyondEnd = "SEQUENCE_BEYOND_END";
    public const string WatcherFellBehind = "WATCHER_FELL_BEHIND";
    public const string InvalidEventFilter = "INVALID_EVENT_FILTER";
    public const string InvalidStartSequences = "INVALID_START_SEQUENCES";
    public const string InvalidBookmarkInterval = "INVALID_BOOKMARK_INTERVAL";
    public const string ShuttingDown = "SHUTTING_DOWN";
}
