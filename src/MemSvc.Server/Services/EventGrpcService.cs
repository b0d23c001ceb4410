using Grpc.Core;
using MemSvc.Contracts.V1;
using MemSvc.Core.Errors;
using MemSvc.Core.Faults;
using MemSvc.Core.Identity;
using MemSvc.Core.Vms;
using MemSvc.Server.Execution;
using MemSvc.Server.Identity;
using MemSvc.Server.Mapping;
using MemSvc.Server.Validation;
using CoreFaultAction = MemSvc.Core.Faults.FaultAction;

namespace MemSvc.Server.Services;

/// <summary>EventService: journal watches and fault resolution.</summary>
internal sealed class EventGrpcService(VmManager manager, ICallerResolver callers, SharedEventMessages messages, IHostApplicationLifetime lifetime, FairWorkers workers, ResolutionWorkers resolutionWorkers)
    : EventService.EventServiceBase
{
    /// <summary>The largest CONVERT resolution run on the calling thread: a 2 MiB page converts in microseconds.</summary>
    public const ulong InlineResolutionBytes = 2 << 20;

    public override async Task WatchEvents(WatchEventsRequest request, IServerStreamWriter<WatchEventsResponse> responseStream, ServerCallContext context)
    {
        var caller = callers.Resolve(context);
        var watch = WatchMapping.ToCore(request);

        // A stopping server ends the stream with OK rather than leaving it to be cut: the client resumes from the
        // last sequence it saw, against this server's successor. The deadline is this handler's (WatchDeadlines).
        using var deadline = WatchDeadlines.TimeoutOf(context) is { } timeout ? new CancellationTokenSource(timeout) : null;
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(context.CancellationToken, lifetime.ApplicationStopping, deadline?.Token ?? default);
        var items = manager.Events.Watch(caller, watch, stop.Token);
        try
        {
            await EventStreamSender.SendAsync(items, responseStream, messages, stop).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (lifetime.ApplicationStopping.IsCancellationRequested && !context.CancellationToken.IsCancellationRequested)
        {
        }
        catch (Exception e) when (e is not RpcException && deadline is { IsCancellationRequested: true } && !context.CancellationToken.IsCancellationRequested)
        {
            // Whatever the write or the journal's wait threw as the deadline cut it short: the call's answer is the deadline.
            throw new RpcException(new Status(StatusCode.DeadlineExceeded, "the watch's deadline passed"));
        }
    }

    public override Task<ListPendingFaultsResponse> ListPendingFaults(ListPendingFaultsRequest request, ServerCallContext context)
    {
        var caller = callers.Resolve(context);
        var vmId = request.Vm.Length == 0 ? null : ResourceNames.ParseVm(request.Vm, "vm");
        var page = manager.Events.ListPendingFaults(caller, vmId, request.PageSize, request.PageToken);
        return Task.FromResult(PendingFaultMapping.ToProto(page, messages));
    }

    /// <summary>
    /// The fault path's second half, so it runs at once on the calling thread when it is small (a memory fault's
    /// 4 KiB, RETRY, FAIL) and nothing of the owner's runs on the VM; otherwise (a guest's conversion request may
    /// cover GiBs) on <see cref="ResolutionWorkers"/>, at the server's priority and never behind the owner's bulk
    /// calls, because a vCPU waits on it.
    /// </summary>
    public override async Task<ResolveFaultResponse> ResolveFault(ResolveFaultRequest request, ServerCallContext context)
    {
        var caller = callers.Resolve(context);
        var vmId = ResourceNames.ParseVm(request.Vm, "vm");
        var action = EnumMapping.ToCore(Require.Specified(request.Action, "action"));
        FaultResolution Resolve() => manager.Events.ResolveFault(caller, vmId, request.FaultId, action, request.VmUid);
        if (!IsSmall(caller, vmId, request.FaultId, action) || !workers.TryRunInline(caller, vmId, Resolve, out var resolution))
        {
            resolution = await resolutionWorkers.RunAsync(caller, vmId, Resolve, context.CancellationToken).ConfigureAwait(false);
        }

        return new ResolveFaultResponse
        {
            FaultId = resolution.FaultId,
            Action = EnumMapping.ToProto(resolution.Action),
            Latency = Google.Protobuf.WellKnownTypes.Duration.FromTimeSpan(resolution.Latency),
        };
    }

    // Small: converting at most a 2 MiB page, or not converting at all. An unknown fault is small too: the
    // resolution only looks it up and refuses.
    private bool IsSmall(CallerIdentity caller, string vmId, ulong faultId, CoreFaultAction action)
    {
        if (action != CoreFaultAction.Convert)
        {
            return true;
        }

        try
        {
            return (manager.Events.PendingFaultSize(caller, vmId, faultId) ?? 0) <= InlineResolutionBytes;
        }
        catch (CoreException)
        {
            return true;
        }
    }
}
