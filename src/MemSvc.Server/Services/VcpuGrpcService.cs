using Grpc.Core;
using MemSvc.Contracts.V1;
using MemSvc.Core.Vms;
using MemSvc.Server.Identity;
using MemSvc.Server.Mapping;
using MemSvc.Server.Paging;
using MemSvc.Server.Validation;

namespace MemSvc.Server.Services;

/// <summary>VcpuService: guest programs and vCPU run control.</summary>
internal sealed class VcpuGrpcService(VmManager manager, ICallerResolver callers) : VcpuService.VcpuServiceBase
{
    public override Task<LoadGuestProgramResponse> LoadGuestProgram(LoadGuestProgramRequest request, ServerCallContext context)
    {
        var caller = callers.Resolve(context);
        var (vmId, index) = ResourceNames.ParseVcpu(request.Name, "name");
        var program = GuestProgramMapping.ToCore(request.Program);
        return Task.FromResult(new LoadGuestProgramResponse { Vcpu = VcpuMapping.ToProto(manager.Vcpus.LoadGuestProgram(caller, vmId, index, program)) });
    }

    public override Task<StartVcpuResponse> StartVcpu(StartVcpuRequest request, ServerCallContext context)
    {
        var caller = callers.Resolve(context);
        var (vmId, index) = ResourceNames.ParseVcpu(request.Name, "name");
        return Task.FromResult(new StartVcpuResponse { Vcpu = VcpuMapping.ToProto(manager.Vcpus.StartVcpu(caller, vmId, index)) });
    }

    public override Task<PauseVcpuResponse> PauseVcpu(PauseVcpuRequest request, ServerCallContext context)
    {
        var caller = callers.Resolve(context);
        var (vmId, index) = ResourceNames.ParseVcpu(request.Name, "name");
        return Task.FromResult(new PauseVcpuResponse { Vcpu = VcpuMapping.ToProto(manager.Vcpus.PauseVcpu(caller, vmId, index)) });
    }

    public override Task<GetVcpuResponse> GetVcpu(GetVcpuRequest request, ServerCallContext context)
    {
        var caller = callers.Resolve(context);
        var (vmId, index) = ResourceNames.ParseVcpu(request.Name, "name");
        return Task.FromResult(new GetVcpuResponse { Vcpu = VcpuMapping.ToProto(manager.Vcpus.GetVcpu(caller, vmId, index)) });
    }

    public override Task<ListVcpusResponse> ListVcpus(ListVcpusRequest request, ServerCallContext context)
    {
        var caller = callers.Resolve(context);
        var vmId = ResourceNames.ParseVm(request.Parent, "parent");
        var (page, next) = PageToken.Page(
            manager.Vcpus.ListVcpus(caller, vmId), v => PageToken.NumericKey((ulong)v.Index), request.Parent + "/vcpus", request.PageSize, request.PageToken);
        var response = new ListVcpusResponse { NextPageToken = next };
        response.Vcpus.AddRange(page.Select(VcpuMapping.ToProto));
        return Task.FromResult(response);
    }
}
