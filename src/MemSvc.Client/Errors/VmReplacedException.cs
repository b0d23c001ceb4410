using Grpc.Core;

namespace MemSvc.Client.Errors;

/// <summary>
/// A call named one incarnation of a VM (its uid) and another VM holds that name now (FAILED_PRECONDITION
/// VM_REPLACED): the VM it meant was deleted. Its faults and events are over; the VM of that name now is a
/// different one, with its own uid and sequences from 1.
/// </summary>
public sealed class VmReplacedException : MemSvcException
{
    /// <summary>Without detail (for serialisers and mocks).</summary>
    public VmReplacedException()
    {
    }

    /// <summary>With <paramref name="message"/>.</summary>
    public VmReplacedException(string message)
        : base(message)
    {
    }

    /// <summary>With <paramref name="message"/>, caused by <paramref name="innerException"/>.</summary>
    public VmReplacedException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    internal VmReplacedException(MemSvcException error)
        : base(StatusCode.FailedPrecondition, error.Detail, error.Reason, error.Domain, error.Metadata, error.FieldViolations, error.InnerException)
    {
        VmUid = error.Metadata.GetValueOrDefault("vm_uid");
        CurrentVmUid = error.Metadata.GetValueOrDefault("current_vm_uid");
    }

    /// <summary>The incarnation the call named, which is gone (metadata <c>vm_uid</c>).</summary>
    public string? VmUid { get; }

    /// <summary>The VM that holds the name now (metadata <c>current_vm_uid</c>).</summary>
    public string? CurrentVmUid { get; }
}
