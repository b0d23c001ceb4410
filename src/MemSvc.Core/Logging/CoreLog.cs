using MemSvc.Core.Events;
using MemSvc.Core.Faults;
using MemSvc.Core.Vcpus;
using MemSvc.Hypervisor;
using Microsoft.Extensions.Logging;

namespace MemSvc.Core.Logging;

/// <summary>
/// Core's log messages, source-generated: each checks its level first, so a disabled one formats, boxes and
/// allocates nothing, which is what lets the per-fault and per-conversion messages sit on the fault path.
/// Event ids are stable (alerts and dashboards key on them) and live in 1000-1999; the server's are 1-999.
/// Within the range: 100x VMs, 101x vCPU run loops, 102x faults, 103x conversions and backend errors,
/// 104x watchers. A new message takes the next free id of its group; an id is never reused for another meaning.
/// </summary>
internal static partial class CoreLog
{
    /// <summary>The category of every Core message: `Logging:LogLevel:MemSvc.Core=Debug` shows the fault path.</summary>
    public const string Category = "MemSvc.Core";

    [LoggerMessage(EventId = 1000, Level = LogLevel.Information, Message = "VM {Vm} created for owner {Owner} on backend {Backend}: type {VmType}, {VcpuCount} vCPUs, fault policy {FaultPolicy}")]
    public static partial void VmCreated(ILogger logger, string vm, string owner, string backend, VmType vmType, int vcpuCount, FaultPolicy faultPolicy);

    [LoggerMessage(EventId = 1001, Level = LogLevel.Information, Message = "VM {Vm} of owner {Owner} on backend {Backend} deleted")]
    public static partial void VmDeleted(ILogger logger, string vm, string owner, string backend);

    [LoggerMessage(EventId = 1002, Level = LogLevel.Warning, Message = "VM {Vm}: a vCPU thread did not leave KVM_RUN within {StopTimeout}; the VM's backend objects are left undisposed")]
    public static partial void VcpuThreadAbandoned(ILogger logger, string vm, TimeSpan stopTimeout);

    [LoggerMessage(EventId = 1010, Level = LogLevel.Information, Message = "VM {Vm} vCPU {Vcpu}: run loop started (resumed: {Resumed})")]
    public static partial void VcpuStarted(ILogger logger, string vm, int vcpu, bool resumed);

    [LoggerMessage(EventId = 1011, Level = LogLevel.Information, Message = "VM {Vm} vCPU {Vcpu}: run loop stopped, {State}: {Reason} (last exit {LastExit})")]
    public static partial void VcpuStopped(ILogger logger, string vm, int vcpu, VcpuState state, string reason, VcpuExitKind lastExit);

    [LoggerMessage(EventId = 1012, Level = LogLevel.Warning, Message = "VM {Vm} vCPU {Vcpu}: run loop failed: {Reason} (last exit {LastExit})")]
    public static partial void VcpuFailed(ILogger logger, string vm, int vcpu, string reason, VcpuExitKind lastExit);

    [LoggerMessage(EventId = 1013, Level = LogLevel.Error, Message = "VM {Vm} vCPU {Vcpu}: {Operation} failed with {Errno}; the vCPU fails")]
    public static partial void VcpuBackendError(ILogger logger, HypervisorException exception, string vm, int vcpu, string operation, Errno errno);

    [LoggerMessage(EventId = 1014, Level = LogLevel.Error, Message = "VM {Vm} vCPU {Vcpu}: handling an exit failed; the vCPU fails")]
    public static partial void VcpuExitHandlingError(ILogger logger, Exception exception, string vm, int vcpu);

    [LoggerMessage(EventId = 1020, Level = LogLevel.Debug, Message = "VM {Vm} vCPU {Vcpu}: fault {FaultId} raised: {Kind} at gpa 0x{Gpa:x}, {Size} bytes, to {Direction}")]
    public static partial void FaultRaised(ILogger logger, string vm, int vcpu, ulong faultId, string kind, ulong gpa, ulong size, string direction);

    [LoggerMessage(EventId = 1021, Level = LogLevel.Debug, Message = "VM {Vm} vCPU {Vcpu}: fault {FaultId} resolved: {Action} (by fallback: {ByFallback}) after {LatencyMs} ms")]
    public static partial void FaultResolved(ILogger logger, string vm, int vcpu, ulong faultId, FaultAction action, bool byFallback, double latencyMs);

    [LoggerMessage(EventId = 1022, Level = LogLevel.Warning, Message = "VM {Vm} vCPU {Vcpu}: fault {FaultId} at gpa 0x{Gpa:x} was not resolved within {Timeout}; applying the fallback {Fallback}")]
    public static partial void FaultTimedOut(ILogger logger, string vm, int vcpu, ulong faultId, ulong gpa, TimeSpan timeout, FaultAction fallback);

    [LoggerMessage(EventId = 1023, Level = LogLevel.Warning, Message = "VM {Vm}: the {Initiator} conversion for fault {FaultId} could not be applied, so the fault fails")]
    public static partial void FaultConversionFailed(ILogger logger, Exception exception, string vm, ulong faultId, ConversionInitiator initiator);

    [LoggerMessage(EventId = 1030, Level = LogLevel.Debug, Message = "VM {Vm}: converted gpa 0x{Gpa:x}, {Size} bytes, to {Direction} ({Initiator}, fault {FaultId}) in {DurationMs} ms")]
    public static partial void ConversionApplied(ILogger logger, string vm, ulong gpa, ulong size, string direction, ConversionInitiator initiator, ulong faultId, double durationMs);

    [LoggerMessage(EventId = 1031, Level = LogLevel.Warning, Message = "VM {Vm}: {Operation} failed with {Errno}: {Reason}")]
    public static partial void BackendCallFailed(ILogger logger, string vm, string operation, Errno errno, string reason);

    [LoggerMessage(EventId = 1032, Level = LogLevel.Error, Message = "VM {Vm}: putting back the attributes of gpa 0x{Gpa:x}, {Size} bytes, after a failed conversion failed too ({Errno}); the backend's attributes may differ from before the call")]
    public static partial void ConversionRestoreFailed(ILogger logger, HypervisorException exception, string vm, ulong gpa, ulong size, Errno errno);

    [LoggerMessage(EventId = 1040, Level = LogLevel.Warning, Message = "VM {Vm}: a watcher fell behind: it needed sequence {NextSequence}, the oldest held is {OldestSequence}")]
    public static partial void WatcherFellBehind(ILogger logger, string vm, ulong nextSequence, ulong oldestSequence);

    /// <summary>A run loop's backend call or exit handling threw: 1013 with the errno for the backend's errors, else 1014.</summary>
    public static void VcpuRunError(ILogger logger, string vm, int vcpu, Exception exception)
    {
        if (exception is HypervisorException backend)
        {
            VcpuBackendError(logger, backend, vm, vcpu, backend.Operation, backend.Errno);
        }
        else
        {
            VcpuExitHandlingError(logger, exception, vm, vcpu);
        }
    }

    [LoggerMessage(EventId = 1050, Level = LogLevel.Error, Message = "VM {Vm}: its journal file {Path} could not be written or removed; the VM's journal is kept in memory only from now on")]
    public static partial void JournalFileFailed(ILogger logger, Exception exception, string vm, string path);

    [LoggerMessage(EventId = 1051, Level = LogLevel.Error, Message = "Journal file {Path} is not read: {Because}. It is left as it is (a MemSvc that reads it can still report its VM)")]
    public static partial void JournalFileRefused(ILogger logger, string path, string because);

    [LoggerMessage(EventId = 1052, Level = LogLevel.Warning, Message = "Journal file {Path}: {Bytes} bytes at its end were dropped ({Reason}), the write a kill cut short")]
    public static partial void JournalTailDropped(ILogger logger, string path, long bytes, string reason);

    [LoggerMessage(EventId = 1053, Level = LogLevel.Warning, Message = "VM {Vm} ({VmUid}) of owner {Owner} was lost: {Reason}; its journal ends with VM_LOST at sequence {Sequence} and stays watchable until {Until}")]
    public static partial void VmLost(ILogger logger, string vm, string vmUid, string owner, string reason, ulong sequence, DateTimeOffset until);

    [LoggerMessage(EventId = 1054, Level = LogLevel.Information, Message = "VM {Vm} ({VmUid}): the lost VM's journal was dropped ({Why})")]
    public static partial void LostJournalDropped(ILogger logger, string vm, string vmUid, string why);

    [LoggerMessage(EventId = 1055, Level = LogLevel.Information, Message = "Planned handoff: adopted {Vms} VMs with {PendingFaults} pending faults from the previous process")]
    public static partial void HandoffAdopted(ILogger logger, int vms, int pendingFaults);
}
