using Microsoft.Extensions.Logging;

namespace MemSvc.Client.Orchestration;

/// <summary>The fault orchestrator's log messages (event ids 3000-3099).</summary>
internal static partial class OrchestratorLog
{
    [LoggerMessage(EventId = 3001, Level = LogLevel.Error, Message = "fault handler failed for fault {FaultId} of {Vm} ({VmUid}); the VM's fallback applies at {Deadline}")]
    public static partial void HandlerFailed(ILogger logger, Exception exception, ulong faultId, string vm, string vmUid, DateTimeOffset? deadline);

    [LoggerMessage(EventId = 3002, Level = LogLevel.Warning, Message = "ResolveFault of fault {FaultId} of {Vm} ({VmUid}) failed; the VM's fallback applies at {Deadline}")]
    public static partial void ResolveFailed(ILogger logger, Exception exception, ulong faultId, string vm, string vmUid, DateTimeOffset? deadline);

    [LoggerMessage(EventId = 3003, Level = LogLevel.Information, Message = "listed {Vms} VMs with {Faults} pending faults ({New} new to this run)")]
    public static partial void Listed(ILogger logger, int vms, int faults, int @new);

    [LoggerMessage(EventId = 3004, Level = LogLevel.Information, Message = "{Vm} ({VmUid}) ended: {Reason}")]
    public static partial void VmEnded(ILogger logger, string vm, string vmUid, string reason);
}
