using System.Globalization;

namespace MemSvc.Core.Errors;

/// <summary>The errors several operations share, built in one place so that their reason, field and metadata agree.</summary>
internal static class CoreErrors
{
    public static CoreException VmNotFound(string vmId) =>
        new(ErrorKind.NotFound, ErrorReasons.VmNotFound, $"vm '{vmId}' not found", null, Meta("vm_id", vmId));

    /// <summary>
    /// The name's VM died with an earlier daemon process: only its journal, ended by VM_LOST at
    /// <paramref name="nextSequence"/> - 1, is left (WatchEvents reads it until DeleteVm or its retention drops it).
    /// </summary>
    public static CoreException VmLost(string vmId, string uid, ulong nextSequence) =>
        new(
            ErrorKind.NotFound,
            ErrorReasons.VmLost,
            $"vm '{vmId}' ({uid}) was lost with an earlier daemon process; its journal, which ends with VM_LOST, is still watchable",
            null,
            new Dictionary<string, string> { ["vm_id"] = vmId, ["vm_uid"] = uid, ["last_sequence"] = Dec(nextSequence - 1) });

    /// <summary>
    /// The request named incarnation <paramref name="uid"/> of a VM, and another VM holds that name now: the one it
    /// meant was deleted. A client that retried would act on a VM it never saw.
    /// </summary>
    public static CoreException VmReplaced(string vmId, string uid, string currentUid, string field) =>
        new(
            ErrorKind.FailedPrecondition,
            ErrorReasons.VmReplaced,
            $"vm '{vmId}' {uid} was deleted; the VM of that name now is another one ({currentUid})",
            field,
            new Dictionary<string, string> { ["vm_id"] = vmId, ["vm_uid"] = uid, ["current_vm_uid"] = currentUid });

    public static CoreException QuotaExceeded(string quota, ulong limit, ulong requested) => CoreException.QuotaExceeded(quota, limit, requested);

    /// <summary>
    /// Guest memory over every owner would pass the host-wide cap (HostMemoryOptions): RESOURCE_EXHAUSTED
    /// HOST_MEMORY_EXHAUSTED with metadata limit, requested (what the host would then hold) and in_use, in bytes.
    /// </summary>
    public static CoreException HostMemoryExhausted(ulong limit, ulong requested, ulong inUse) =>
        new(
            ErrorKind.ResourceExhausted,
            ErrorReasons.HostMemoryExhausted,
            $"the host's guest memory cap is {limit} bytes and {inUse} are in use; this call would need {requested}",
            null,
            new Dictionary<string, string> { ["limit"] = Dec(limit), ["requested"] = Dec(requested), ["in_use"] = Dec(inUse) });

    public static CoreException ShuttingDown() =>
        new(ErrorKind.Unavailable, ErrorReasons.ShuttingDown, "the VM manager is shutting down");

    public static Dictionary<string, string> Meta(string key, string value) => new() { [key] = value };

    public static string Hex(ulong value) => "0x" + value.ToString("x", CultureInfo.InvariantCulture);

    public static string Dec(ulong value) => value.ToString(CultureInfo.InvariantCulture);
}
