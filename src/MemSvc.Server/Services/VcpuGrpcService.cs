using Grpc.Core;
using MemSvc.Contracts.V1;
using MemSvc.Core.Vms;
using MemSvc.Server.Execution;
using MemSvc.Server.Identity;
using MemSvc.Server.Mapping;
using MemSvc.Server.Paging;
using MemSvc.Server.Validation;

namespace MemSvc.Server.Services;

/// <summary>
/// VcpuService: guest programs and vCPU run control. Loading, starting and pausing run on <see cref="FairWorkers"/>
/// (they wait for a finished vCPU thread and compile programs under the vCPU's lock); GetVcpu and ListVcpus read
/// on the calling thread.
/// </summary>
internal sealed class VcpuGrpcService(VmManager manager, ICallerResolver callers, FairWorkers workers) : VcpuService.VcpuServiceBase
{
    public override async Task<LoadGuestProgramResponse> LoadGuestProgram(LoadGuestProgramRequest request, ServerCallContext context)
    {
        var caller = callers.Resolve(context);
        var (vmId, index) = ResourceNames.ParseVcpu(request.Name, "name");
        var program = GuestProgramMapping.ToCore(request.Program);
        var vcpu = await workers.RunAsync(caller, vmId, () => manager.Vcpus.LoadGuestProgram(caller, vmId, index, program), context.CancellationToken).ConfigureAwait(false);
        return new LoadGuestProgramResponse { Vcpu = VcpuMapping.ToProto(vcpu) };
    }

    public override async Task<StartVcpuResponse> StartVcpu(StartVcpuRequest request, ServerCallContext context)
    {
        var caller = callers.Resolve(context);
        var (vmId, index) = ResourceNames.ParseVcpu(request.Name, "name");
        var vcpu = await workers.RunAsync(caller, vmId, () => manager.Vcpus.StartVcpu(caller, vmId, index), context.CancellationToken).ConfigureAwait(false);
        return new StartVcpuResponse { Vcpu = VcpuMapping.ToProto(vcpu) };
    }

    public override async Task<PauseVcpuResponse> PauseVcpu(PauseVcpuRequest request, ServerCallContext context)
    {
        var caller = callers.Resolve(context);
        var (vmId, index) = ResourceNames.ParseVcpu(request.Name, "name");
        var vcpu = await workers.RunAsync(caller, vmId, () => manager.Vcpus.PauseVcpu(caller, vmId, index), context.CancellationToken).ConfigureAwait(false);
        return new PauseVcpuResponse { Vcpu = VcpuMapping.ToProto(vcpu) };
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
