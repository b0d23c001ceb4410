using Google.Protobuf.WellKnownTypes;
using MemSvc.Core.Memory;
using MemSvc.Hypervisor;
using MemSvc.Server.Validation;
using Api = MemSvc.Contracts.V1;

namespace MemSvc.Server.Mapping;

/// <summary>guest_memfds, memory regions and attribute runs between the contract and Core.</summary>
internal static class MemoryMapping
{
    public static Api.GuestMemfd ToProto(GuestMemfdInfo memfd)
    {
        var result = new Api.GuestMemfd
        {
            Name = ResourceNames.GuestMemfd(memfd.VmId, memfd.Id),
            Size = memfd.Size,
            CreateTime = Timestamp.FromDateTimeOffset(memfd.CreateTime),
        };
        result.Flags.AddRange(EnumMapping.ToProto(memfd.Flags));
        return result;
    }

    public static Api.MemoryRegion ToProto(MemoryRegionInfo region)
    {
        var result = new Api.MemoryRegion
        {
            Name = ResourceNames.MemoryRegion(region.VmId, region.Slot),
            Slot = region.Slot,
            Gpa = region.Gpa,
            Size = region.Size,
            GuestMemfd = region.GuestMemfdId == 0 ? "" : ResourceNames.GuestMemfd(region.VmId, region.GuestMemfdId),
            GuestMemfdOffset = region.GuestMemfdOffset,
            SharedBacking = EnumMapping.ToProto(region.SharedBacking),
            BackingRevoked = region.BackingRevoked,
        };
        result.Flags.AddRange(EnumMapping.ToProto(region.Flags));
        return result;
    }

    public static Api.AttributeRange ToProto(AttributeRange range)
    {
        var result = new Api.AttributeRange { Gpa = range.Start, Size = range.Size };
        result.Attributes.AddRange(EnumMapping.ToProto(range.Attributes));
        return result;
    }

    /// <summary>Core's request; <paramref name="guestMemfdId"/> is 0 when the request names no guest_memfd.</summary>
    public static SetMemoryRegionRequest ToCore(Api.SetMemoryRegionRequest request, ulong guestMemfdId) => new()
    {
        Slot = request.Slot,
        Gpa = request.Gpa,
        Size = request.Size,
        Flags = EnumMapping.ToCore(request.Flags),
        GuestMemfdId = guestMemfdId,
        GuestMemfdOffset = request.GuestMemfdOffset,
        SharedBacking = request.SharedBacking == Api.SharedBacking.Unspecified
            ? SharedBackingKind.Anonymous
            : EnumMapping.ToCore(request.SharedBacking),
    };
}
