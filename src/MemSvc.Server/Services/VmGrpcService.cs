using Grpc.Core;
using MemSvc.Contracts.V1;
using MemSvc.Core.Vms;
using MemSvc.Server.Execution;
using MemSvc.Server.Identity;
using MemSvc.Server.Mapping;
using MemSvc.Server.Validation;
using CreateVmRequest = MemSvc.Contracts.V1.CreateVmRequest;

namespace MemSvc.Server.Services;

/// <summary>
/// VmService: validates, maps, and delegates to Core's VM operations. CreateVm and DeleteVm run on
/// <see cref="FairWorkers"/> (KVM_CREATE_VM and vCPU threads to make; vCPU threads to stop, up to seconds each);
/// GetVm and ListVms read without any VM's lock, on the calling thread.
/// </summary>
internal sealed class VmGrpcService(VmManager manager, ICallerResolver callers, RequestIds requestIds, FairWorkers workers) : VmService.VmServiceBase
{
    public override async Task<CreateVmResponse> CreateVm(CreateVmRequest request, ServerCallContext context)
    {
        var caller = callers.Resolve(context);
        Require.Known(request.Backend, "backend");
        Require.Known(request.VmType, "vm_type");
        Require.Known(request.FaultPolicy, "fault_policy");
        Require.Known(request.TimeoutFallback, "timeout_fallback");
        var timeout = DurationField.ToTimeSpan(request.ResolutionTimeout, "resolution_timeout");
        var wanted = VmMapping.ToCore(request, timeout);
        var vm = await workers.RunAsync(
            caller,
            null,
            () => requestIds.Create(caller, request, request.RequestId, () => manager.Vms.CreateVm(caller, wanted), made => new CreatedKey(made.VmId, 0), made => manager.Vms.GetVm(caller, made.VmId)),
            context.CancellationToken).ConfigureAwait(false);
        return new CreateVmResponse { Vm = VmMapping.ToProto(vm) };
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

    public override async Task<DeleteVmResponse> DeleteVm(DeleteVmRequest request, ServerCallContext context)
    {
        var caller = callers.Resolve(context);
        var vmId = ResourceNames.ParseVm(request.Name, "name");
        await workers.RunAsync(caller, vmId, () => manager.Vms.DeleteVm(caller, vmId), context.CancellationToken).ConfigureAwait(false);
        return new DeleteVmResponse();
    }
}
