using Grpc.Core;
using MemSvc.Contracts.V1;
using MemSvc.Core.Errors;
using MemSvc.Core.Vms;
using MemSvc.Server.Errors;
using MemSvc.Server.Execution;
using MemSvc.Server.Identity;
using MemSvc.Server.Mapping;
using MemSvc.Server.Paging;
using MemSvc.Server.Validation;

namespace MemSvc.Server.Services;

/// <summary>
/// GuestMemoryService: guest_memfds, memory regions, attributes, conversion and shared-memory access. Requests are
/// checked here; every Core operation runs on <see cref="FairWorkers"/>, since each takes the VM's memory lock and
/// some (conversions, fallocate, 4 MiB writes) take long.
/// </summary>
internal sealed class GuestMemoryGrpcService(VmManager manager, ICallerResolver callers, RequestIds requestIds, FairWorkers workers) : GuestMemoryService.GuestMemoryServiceBase
{
    public override async Task<CreateGuestMemfdResponse> CreateGuestMemfd(CreateGuestMemfdRequest request, ServerCallContext context)
    {
        var caller = callers.Resolve(context);
        var vmId = ResourceNames.ParseVm(request.Parent, "parent");
        var flags = EnumMapping.ToCore(Require.DistinctSpecified(request.Flags, "flags"));
        var memfd = await workers.RunAsync(
            caller,
            vmId,
            () => requestIds.Create(
                caller,
                request,
                request.RequestId,
                () => manager.GuestMemfds.CreateGuestMemfd(caller, vmId, request.Size, flags),
                made => new CreatedKey(made.VmId, made.Id),
                made => manager.GuestMemfds.GetGuestMemfd(caller, made.VmId, made.Id)),
            context.CancellationToken).ConfigureAwait(false);
        return new CreateGuestMemfdResponse { GuestMemfd = MemoryMapping.ToProto(memfd) };
    }

    public override async Task<GetGuestMemfdResponse> GetGuestMemfd(GetGuestMemfdRequest request, ServerCallContext context)
    {
        var caller = callers.Resolve(context);
        var (vmId, id) = ResourceNames.ParseGuestMemfd(request.Name, "name");
        var memfd = await workers.RunAsync(caller, vmId, () => manager.GuestMemfds.GetGuestMemfd(caller, vmId, id), context.CancellationToken).ConfigureAwait(false);
        return new GetGuestMemfdResponse { GuestMemfd = MemoryMapping.ToProto(memfd) };
    }

    public override async Task<ListGuestMemfdsResponse> ListGuestMemfds(ListGuestMemfdsRequest request, ServerCallContext context)
    {
        var caller = callers.Resolve(context);
        var vmId = ResourceNames.ParseVm(request.Parent, "parent");
        var memfds = await workers.RunAsync(caller, vmId, () => manager.GuestMemfds.ListGuestMemfds(caller, vmId), context.CancellationToken).ConfigureAwait(false);
        var (page, next) = PageToken.Page(
            memfds, m => PageToken.NumericKey(m.Id), request.Parent + "/guestMemfds", request.PageSize, request.PageToken);
        var response = new ListGuestMemfdsResponse { NextPageToken = next };
        response.GuestMemfds.AddRange(page.Select(MemoryMapping.ToProto));
        return response;
    }

    public override async Task<DeleteGuestMemfdResponse> DeleteGuestMemfd(DeleteGuestMemfdRequest request, ServerCallContext context)
    {
        var caller = callers.Resolve(context);
        var (vmId, id) = ResourceNames.ParseGuestMemfd(request.Name, "name");
        await workers.RunAsync(caller, vmId, () => manager.GuestMemfds.DeleteGuestMemfd(caller, vmId, id), context.CancellationToken).ConfigureAwait(false);
        return new DeleteGuestMemfdResponse();
    }

    public override async Task<AllocateGuestMemfdResponse> AllocateGuestMemfd(AllocateGuestMemfdRequest request, ServerCallContext context)
    {
        var caller = callers.Resolve(context);
        var (vmId, id) = ResourceNames.ParseGuestMemfd(request.Name, "name");
        await workers.RunAsync(caller, vmId, () => manager.GuestMemfds.AllocateGuestMemfd(caller, vmId, id, request.Offset, request.Size), context.CancellationToken).ConfigureAwait(false);
        return new AllocateGuestMemfdResponse();
    }

    public override async Task<DiscardGuestMemfdResponse> DiscardGuestMemfd(DiscardGuestMemfdRequest request, ServerCallContext context)
    {
        var caller = callers.Resolve(context);
        var (vmId, id) = ResourceNames.ParseGuestMemfd(request.Name, "name");
        await workers.RunAsync(caller, vmId, () => manager.GuestMemfds.DiscardGuestMemfd(caller, vmId, id, request.Offset, request.Size), context.CancellationToken).ConfigureAwait(false);
        return new DiscardGuestMemfdResponse();
    }

    public override async Task<SetMemoryRegionResponse> SetMemoryRegion(SetMemoryRegionRequest request, ServerCallContext context)
    {
        var caller = callers.Resolve(context);
        var vmId = ResourceNames.ParseVm(request.Parent, "parent");
        Require.DistinctSpecified(request.Flags, "flags");
        Require.Known(request.SharedBacking, "shared_backing");
        var memfdId = GuestMemfdOf(vmId, request.GuestMemfd);
        var wanted = MemoryMapping.ToCore(request, memfdId);
        var region = await workers.RunAsync(caller, vmId, () => manager.MemoryRegions.SetMemoryRegion(caller, vmId, wanted), context.CancellationToken).ConfigureAwait(false);
        return new SetMemoryRegionResponse { MemoryRegion = MemoryMapping.ToProto(region) };
    }

    public override async Task<GetMemoryRegionResponse> GetMemoryRegion(GetMemoryRegionRequest request, ServerCallContext context)
    {
        var caller = callers.Resolve(context);
        var (vmId, slot) = ResourceNames.ParseMemoryRegion(request.Name, "name");
        var region = await workers.RunAsync(caller, vmId, () => manager.MemoryRegions.GetMemoryRegion(caller, vmId, slot), context.CancellationToken).ConfigureAwait(false);
        return new GetMemoryRegionResponse { MemoryRegion = MemoryMapping.ToProto(region) };
    }

    public override async Task<DeleteMemoryRegionResponse> DeleteMemoryRegion(DeleteMemoryRegionRequest request, ServerCallContext context)
    {
        var caller = callers.Resolve(context);
        var (vmId, slot) = ResourceNames.ParseMemoryRegion(request.Name, "name");
        await workers.RunAsync(caller, vmId, () => manager.MemoryRegions.DeleteMemoryRegion(caller, vmId, slot), context.CancellationToken).ConfigureAwait(false);
        return new DeleteMemoryRegionResponse();
    }

    public override async Task<ListMemoryRegionsResponse> ListMemoryRegions(ListMemoryRegionsRequest request, ServerCallContext context)
    {
        var caller = callers.Resolve(context);
        var vmId = ResourceNames.ParseVm(request.Parent, "parent");
        var regions = await workers.RunAsync(caller, vmId, () => manager.MemoryRegions.ListMemoryRegions(caller, vmId), context.CancellationToken).ConfigureAwait(false);
        var (page, next) = PageToken.Page(
            regions, r => PageToken.NumericKey(r.Slot), request.Parent + "/memoryRegions", request.PageSize, request.PageToken);
        var response = new ListMemoryRegionsResponse { NextPageToken = next };
        response.MemoryRegions.AddRange(page.Select(MemoryMapping.ToProto));
        return response;
    }

    public override async Task<RevokeMemoryRegionBackingResponse> RevokeMemoryRegionBacking(RevokeMemoryRegionBackingRequest request, ServerCallContext context)
    {
        var caller = callers.Resolve(context);
        var (vmId, slot) = ResourceNames.ParseMemoryRegion(request.Name, "name");
        var region = await workers.RunAsync(caller, vmId, () => manager.MemoryRegions.RevokeRegionBacking(caller, vmId, slot), context.CancellationToken).ConfigureAwait(false);
        return new RevokeMemoryRegionBackingResponse { MemoryRegion = MemoryMapping.ToProto(region) };
    }

    public override async Task<SetMemoryAttributesResponse> SetMemoryAttributes(SetMemoryAttributesRequest request, ServerCallContext context)
    {
        var caller = callers.Resolve(context);
        var vmId = ResourceNames.ParseVm(request.Vm, "vm");
        var attributes = EnumMapping.ToCore(Require.DistinctSpecified(request.Attributes, "attributes"));
        await workers.RunAsync(caller, vmId, () => manager.Memory.SetMemoryAttributes(caller, vmId, request.Gpa, request.Size, attributes), context.CancellationToken).ConfigureAwait(false);
        return new SetMemoryAttributesResponse();
    }

    public override async Task<GetMemoryAttributesResponse> GetMemoryAttributes(GetMemoryAttributesRequest request, ServerCallContext context)
    {
        var caller = callers.Resolve(context);
        var vmId = ResourceNames.ParseVm(request.Vm, "vm");
        var ranges = await workers.RunAsync(caller, vmId, () => manager.Memory.GetMemoryAttributes(caller, vmId, request.Gpa, request.Size), context.CancellationToken).ConfigureAwait(false);
        var response = new GetMemoryAttributesResponse();
        response.Ranges.AddRange(ranges.Select(MemoryMapping.ToProto));
        return response;
    }

    public override async Task<ConvertMemoryResponse> ConvertMemory(ConvertMemoryRequest request, ServerCallContext context)
    {
        var caller = callers.Resolve(context);
        var vmId = ResourceNames.ParseVm(request.Vm, "vm");
        var toPrivate = Require.Specified(request.Target, "target") == MemoryVisibility.Private;
        var result = await workers.RunAsync(caller, vmId, () => manager.Memory.ConvertMemory(caller, vmId, request.Gpa, request.Size, toPrivate), context.CancellationToken).ConfigureAwait(false);
        return new ConvertMemoryResponse { EventSequence = result.Sequence };
    }

    public override async Task<ReadGuestMemoryResponse> ReadGuestMemory(ReadGuestMemoryRequest request, ServerCallContext context)
    {
        var caller = callers.Resolve(context);
        var vmId = ResourceNames.ParseVm(request.Vm, "vm");
        var data = await workers.RunAsync(caller, vmId, () => manager.Memory.ReadGuestMemory(caller, vmId, request.Gpa, request.Size), context.CancellationToken).ConfigureAwait(false);
        return new ReadGuestMemoryResponse { Data = Google.Protobuf.UnsafeByteOperations.UnsafeWrap(data) };
    }

    public override async Task<WriteGuestMemoryResponse> WriteGuestMemory(WriteGuestMemoryRequest request, ServerCallContext context)
    {
        var caller = callers.Resolve(context);
        var vmId = ResourceNames.ParseVm(request.Vm, "vm");
        await workers.RunAsync(caller, vmId, () => manager.Memory.WriteGuestMemory(caller, vmId, request.Gpa, request.Data.Span), context.CancellationToken).ConfigureAwait(false);
        return new WriteGuestMemoryResponse { Size = (ulong)request.Data.Length };
    }

    /// <summary>The id of a guest_memfd name that must belong to <paramref name="vmId"/>; 0 when the name is empty.</summary>
    private static ulong GuestMemfdOf(string vmId, string name)
    {
        if (name.Length == 0)
        {
            return 0;
        }

        var (owner, id) = ResourceNames.ParseGuestMemfd(name, "guest_memfd");
        return owner == vmId
            ? id
            : throw CoreException.InvalidArgument(ServerReasons.GuestMemfdOfOtherVm, "guest_memfd", $"guest_memfd {name} belongs to another VM than parent");
    }
}
