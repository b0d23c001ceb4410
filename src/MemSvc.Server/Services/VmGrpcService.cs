using Grpc.Core;
using MemSvc.Contracts.V1;
using MemSvc.Core.Vms;
using MemSvc.Server.Identity;
using MemSvc.Server.Mapping;
using MemSvc.Server.Validation;
using CreateVmRequest = MemSvc.Contracts.V1.CreateVmRequest;

namespace MemSvc.Server.Services;

/// <summary>VmService: validates, maps, and delegates to Core's VM operations.</summary>
internal sealed class VmGrpcService(VmManager manager, ICallerResolver callers, RequestIds requestIds) : VmService.VmServiceBase
{
    public override Task<CreateVmResponse> CreateVm(CreateVmRequest request, ServerCallContext context)
    {
        var caller = callers.Resolve(context);
        Require.Known(request.Backend, "backend");
        Require.Known(request.VmType, "vm_type");
        Require.Known(request.FaultPolicy, "fault_policy");
        Require.Known(request.TimeoutFallback, "timeout_fallback");
        var timeout = DurationField.ToTimeSpan(request.ResolutionTimeout, "resolution_timeout");
        var vm = requestIds.Create(
            caller, request, request.RequestId, () => manager.Vms.CreateVm(caller, VmMapping.ToCore(request, timeout)), made => manager.Vms.GetVm(caller, made.VmId));
        return Task.FromResult(new CreateVmResponse { Vm = VmMapping.ToProto(vm) });
    }

    public override Task<GetVmResponse> GetVm(GetVmRequest request, ServerCallContext context)
    {
        var caller = callers.Resolve(context);
        var vmId = ResourceNames.ParseVm(request.Name, "name");
        return Task.FromResult(new GetVmResponse { Vm = VmMapping.ToProto(manager.Vms.GetVm(caller, vmId)) });
    }

    public override Task<ListVmsResponse> ListVms(ListVmsRequest request, ServerCallContext context)
    {
        var caller = callers.Resolve(context);
        var page = manager.Vms.ListVms(caller, request.PageSize, request.PageToken);
        var response = new ListVmsResponse { NextPageToken = page.NextPageToken };
        response.Vms.AddRange(page.Vms.Select(VmMapping.ToProto));
        return Task.FromResult(response);
    }

    public override Task<DeleteVmResponse> DeleteVm(DeleteVmRequest request, ServerCallContext context)
    {
        var caller = callers.Resolve(context);
        var vmId = ResourceNames.ParseVm(request.Name, "name");
        manager.Vms.DeleteVm(caller, vmId);
        return Task.FromResult(new DeleteVmResponse());
    }
}
