using Google.Protobuf.WellKnownTypes;
using MemSvc.Core.Events;
using MemSvc.Core.Faults;
using MemSvc.Server.Validation;
using Api = MemSvc.Contracts.V1;

namespace MemSvc.Server.Mapping;

/// <summary>ListPendingFaults' page, and journal positions, from Core to the contract.</summary>
internal static class PendingFaultMapping
{
    /// <param name="messages">The shared event messages: a listed fault's event is the one its watchers were sent.</param>
    public static Api.ListPendingFaultsResponse ToProto(PendingFaultPage page, SharedEventMessages messages)
    {
        var response = new Api.ListPendingFaultsResponse { NextPageToken = page.NextPageToken };
        foreach (var fault in page.Faults)
        {
            response.PendingFaults.Add(new Api.PendingFault { Event = messages.For(fault.Event).Event, Deadline = Timestamp.FromDateTimeOffset(fault.Deadline) });
        }

        response.Positions.AddRange(page.Positions.Select(ToProto));
        return response;
    }

    public static Api.VmEventPosition ToProto(VmPosition position) => new()
    {
        Vm = ResourceNames.Vm(position.VmId),
        NextSequence = position.NextSequence,
        VmUid = position.VmUid,
    };
}
