using Grpc.Core;
using MemSvc.Contracts.V1;
using MemSvc.Core.Vms;
using MemSvc.Server.Identity;
using MemSvc.Server.Mapping;
using MemSvc.Server.Validation;

namespace MemSvc.Server.Services;

/// <summary>EventService: journal watches and fault resolution.</summary>
internal sealed class EventGrpcService(VmManager manager, ICallerResolver callers, SharedEventMessages messages, IHostApplicationLifetime lifetime) : EventService.EventServiceBase
{
    public override async Task WatchEvents(WatchEventsRequest request, IServerStreamWriter<WatchEventsResponse> responseStream, ServerCallContext context)
    {
        var caller = callers.Resolve(context);
        var watch = WatchMapping.ToCore(request);

        // A stopping server ends the stream with OK rather than leaving it to be cut: the client resumes from the
        // last sequence it saw, against this server's successor.
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(context.CancellationToken, lifetime.ApplicationStopping);
        var items = manager.Events.Watch(caller, watch, stop.Token);
        try
        {
            await EventStreamSender.SendAsync(items, responseStream, messages, stop).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (lifetime.ApplicationStopping.IsCancellationRequested && !context.CancellationToken.IsCancellationRequested)
        {
        }
    }

    public override Task<ListPendingFaultsResponse> ListPendingFaults(ListPendingFaultsRequest request, ServerCallContext context)
    {
        var caller = callers.Resolve(context);
        var vmId = request.Vm.Length == 0 ? null : ResourceNames.ParseVm(request.Vm, "vm");
        var page = manager.Events.ListPendingFaults(caller, vmId, request.PageSize, request.PageToken);
        return Task.FromResult(PendingFaultMapping.ToProto(page, messages));
    }

    public override Task<ResolveFaultResponse> ResolveFault(ResolveFaultRequest request, ServerCallContext context)
    {
        var caller = callers.Resolve(context);
        var vmId = ResourceNames.ParseVm(request.Vm, "vm");
        var action = Require.Specified(request.Action, "action");
        var resolution = manager.Events.ResolveFault(caller, vmId, request.FaultId, EnumMapping.ToCore(action), request.VmUid);
        return Task.FromResult(new ResolveFaultResponse
        {
            FaultId = resolution.FaultId,
            Action = EnumMapping.ToProto(resolution.Action),
            Latency = Google.Protobuf.WellKnownTypes.Duration.FromTimeSpan(resolution.Latency),
        });
    }
}
