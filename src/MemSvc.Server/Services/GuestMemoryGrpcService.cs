using Grpc.Core;
using MemSvc.Contracts.V1;
using MemSvc.Core.Errors;
using MemSvc.Core.Vms;
using MemSvc.Server.Identity;
using MemSvc.Server.Mapping;
using MemSvc.Server.Paging;
using MemSvc.Server.Validation;

namespace MemSvc.Server.Services;

/// <summary>GuestMemoryService: guest_memfds, memory regions, attributes, conversion and shared-memory access.</summary>
internal sealed class GuestMemoryGrpcService(VmManager manager, ICallerResolver callers, RequestIds requestIds) : GuestMemoryService.GuestMemoryServiceBase
{
    public override Task<CreateGuestMemfdResponse> CreateGuestMemfd(CreateGuestMemfdRequest request, ServerCallContext context)
    {
        var caller = callers.Resolve(context);
        var vmId = ResourceNames.ParseVm(request.Parent, "parent");
        var flags = EnumMapping.ToCore(Require.DistinctSpecified(request.Flags, "flags"));
        var memfd = requestIds.Create(
            caller,
            request,
            request.RequestId,
            () => manager.GuestMemfds.CreateGuestMemfd(caller, vmId, request.Size, flags),
            made => manager.GuestMemfds.GetGuestMemfd(caller, made.VmId, made.Id));
        return Task.FromResult(new CreateGuestMemfdResponse { GuestMemfd = MemoryMapping.ToProto(memfd) });
    }

    public override Task<GetGuestMemfdResponse> GetGuestMemfd(GetGuestMemfdRequest request, ServerCallContext context)
    {
        var caller = callers.Resolve(context);
        var (vmId, id) = ResourceNames.ParseGuestMemfd(request.Name, "name");
        return Task.FromResult(new GetGuestMemfdResponse { GuestMemfd = MemoryMapping.ToProto(manager.GuestMemfds.GetGuestMemfd(caller, vmId, id)) });
    }

    public override Task<ListGuestMemfdsResponse> ListGuestMemfds(ListGuestMemfdsRequest request, ServerCallContext context)
    {
        var caller = callers.Resolve(context);
        var vmId = ResourceNames.ParseVm(request.Parent, "parent");
        var (page, next) = PageToken.Page(
            manager.GuestMemfds.ListGuestMemfds(caller, vmId), m => PageToken.NumericKey(m.Id), request.Parent + "/guestMemfds", request.PageSize, request.PageToken);
        var response = new ListGuestMemfdsResponse { NextPageToken = next };
        response.GuestMemfds.AddRange(page.Select(MemoryMapping.ToProto));
        return Task.FromResult(response);
    }

    public override Task<DeleteGuestMemfdResponse> DeleteGuestMemfd(DeleteGuestMemfdRequest request, ServerCallContext context)
    {
        var caller = callers.Resolve(context);
        var (vmId, id) = ResourceNames.ParseGuestMemfd(request.Name, "name");
        manager.GuestMemfds.DeleteGuestMemfd(caller, vmId, id);
        return Task.FromResult(new DeleteGuestMemfdResponse());
    }

    public override Task<AllocateGuestMemfdResponse> AllocateGuestMemfd(AllocateGuestMemfdRequest request, ServerCallContext context)
    {
        var caller = callers.Resolve(context);
        var (vmId, id) = ResourceNames.ParseGuestMemfd(request.Name, "name");
        manager.GuestMemfds.AllocateGuestMemfd(caller, vmId, id, request.Offset, request.Size);
        return Task.FromResult(new AllocateGuestMemfdResponse());
    }

    public override Task<DiscardGuestMemfdResponse> DiscardGuestMemfd(DiscardGuestMemfdRequest request, ServerCallContext context)
    {
        var caller = callers.Resolve(context);
        var (vmId, id) = ResourceNames.ParseGuestMemfd(request.Name, "name");
        manager.GuestMemfds.DiscardGuestMemfd(caller, vmId, id, request.Offset, request.Size);
        return Task.FromResult(new DiscardGuestMemfdResponse());
    }

    public override Task<SetMemoryRegionResponse> SetMemoryRegion(SetMemoryRegionRequest request, ServerCallContext context)
    {
        var caller = callers.Resolve(context);
        var vmId = ResourceNames.ParseVm(request.Parent, "parent");
        Require.DistinctSpecified(request.Flags, "flags");
        Require.Known(request.SharedBacking, "shared_backing");
        var memfdId = GuestMemfdOf(vmId, request.GuestMemfd);
        var region = manager.MemoryRegions.SetMemoryRegion(caller, vmId, MemoryMapping.ToCore(request, memfdId));
        return Task.FromResult(new SetMemoryRegionResponse { MemoryRegion = MemoryMapping.ToProto(region) });
    }

    public override Task<GetMemoryRegionResponse> GetMemoryRegion(GetMemoryRegionRequest request, ServerCallContext context)
    {
        var caller = callers.Resolve(context);
        var (vmId, slot) = ResourceNames.ParseMemoryRegion(request.Name, "name");
        return Task.FromResult(new GetMemoryRegionResponse { MemoryRegion = MemoryMapping.ToProto(manager.MemoryRegions.GetMemoryRegion(caller, vmId, slot)) });
    }

    public override Task<DeleteMemoryRegionResponse> DeleteMemoryRegion(DeleteMemoryRegionRequest request, ServerCallContext context)
    {
        var caller = callers.Resolve(context);
        var (vmId, slot) = ResourceNames.ParseMemoryRegion(request.Name, "name");
        manager.MemoryRegions.DeleteMemoryRegion(caller, vmId, slot);
        return Task.FromResult(new DeleteMemoryRegionResponse());
    }

    public override Task<ListMemoryRegionsResponse> ListMemoryRegions(ListMemoryRegionsRequest request, ServerCallContext context)
    {
        var caller = callers.Resolve(context);
        var vmId = ResourceNames.ParseVm(request.Parent, "parent");
        var (page, next) = PageToken.Page(
            manager.MemoryRegions.ListMemoryRegions(caller, vmId), r => PageToken.NumericKey(r.Slot), request.Parent + "/memoryRegions", request.PageSize, request.PageToken);
        var response = new ListMemoryRegionsResponse { NextPageToken = next };
        response.MemoryRegions.AddRange(page.Select(MemoryMapping.ToProto));
        return Task.FromResult(response);
    }

    public override Task<RevokeMemoryRegionBackingResponse> RevokeMemoryRegionBacking(RevokeMemoryRegionBackingRequest request, ServerCallContext context)
    {
        var caller = callers.Resolve(context);
        var (vmId, slot) = ResourceNames.ParseMemoryRegion(request.Name, "name");
        var region = manager.MemoryRegions.RevokeRegionBacking(caller, vmId, slot);
        return Task.FromResult(new RevokeMemoryRegionBackingResponse { MemoryRegion = MemoryMapping.ToProto(region) });
    }

    public override Task<SetMemoryAttributesResponse> SetMemoryAttributes(SetMemoryAttributesRequest request, ServerCallContext context)
    {
        var caller = callers.Resolve(context);
        var vmId = ResourceNames.ParseVm(request.Vm, "vm");
        var attributes = EnumMapping.ToCore(Require.DistinctSpecified(request.Attributes, "attributes"));
        manager.Memory.SetMemoryAttributes(caller, vmId, request.Gpa, request.Size, attributes);
        return Task.FromResult(new SetMemoryAttributesResponse());
    }

    public override Task<GetMemoryAttributesResponse> GetMemoryAttributes(GetMemoryAttributesRequest request, ServerCallContext context)
    {
        var caller = callers.Resolve(context);
        var vmId = ResourceNames.ParseVm(request.Vm, "vm");
        var response = new GetMemoryAttributesResponse();
        response.Ranges.AddRange(manager.Memory.GetMemoryAttributes(caller, vmId, request.Gpa, request.Size).Select(MemoryMapping.ToProto));
        return Task.FromResult(response);
    }

    public override Task<ConvertMemoryResponse> ConvertMemory(ConvertMemoryRequest request, ServerCallContext context)
    {
        var caller = callers.Resolve(context);
        var vmId = ResourceNames.ParseVm(request.Vm, "vm");
        var toPrivate = Require.Specified(request.Target, "target") == MemoryVisibility.Private;
        var result = manager.Memory.ConvertMemory(caller, vmId, request.Gpa, request.Size, toPrivate);
        return Task.FromResult(new ConvertMemoryResponse { EventSequence = result.Sequence });
    }

    public override Task<ReadGuestMemoryResponse> ReadGuestMemory(ReadGuestMemoryRequest request, ServerCallContext context)
    {
        var caller = callers.Resolve(context);
        var vmId = ResourceNames.ParseVm(request.Vm, "vm");
        var data = manager.Memory.ReadGuestMemory(caller, vmId, request.Gpa, request.Size);
        return Task.FromResult(new ReadGuestMemoryResponse { Data = Google.Protobuf.UnsafeByteOperations.UnsafeWrap(data) });
    }

    public override Task<WriteGuestMemoryResponse> WriteGuestMemory(WriteGuestMemoryRequest request, ServerCallContext context)
    {
        var caller = callers.Resolve(context);
        var vmId = ResourceNames.ParseVm(request.Vm, "vm");
        manager.Memory.WriteGuestMemory(caller, vmId, request.Gpa, request.Data.Span);
        return Task.FromResult(new WriteGuestMemoryResponse { Size = (ulong)request.Data.Length });
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
            : throw CoreException.InvalidArgument("GUEST_MEMFD_OF_OTHER_VM", "guest_memfd", $"guest_memfd {name} belongs to another VM than parent");
    }
}
