using Google.Protobuf.WellKnownTypes;
using MemSvc.Core.Events;
using MemSvc.Server.Validation;
using Api = MemSvc.Contracts.V1;

namespace MemSvc.Server.Mapping;

/// <summary>Journal events and watch filters between Core and the contract.</summary>
internal static class EventMapping
{
    public static Api.Event ToProto(VmEvent evt)
    {
        var result = new Api.Event
        {
            Sequence = evt.Sequence,
            Vm = ResourceNames.Vm(evt.VmId),
            VmUid = evt.VmUid,
            Time = Timestamp.FromDateTimeOffset(evt.Time),
        };
        switch (evt.Payload)
        {
            case EventPayload.MemoryFault f:
                result.MemoryFault = new Api.MemoryFaultEvent
                {
                    Vcpu = (uint)f.Vcpu,
                    Gpa = f.Gpa,
                    Size = f.Size,
                    Private = f.Private,
                    Flags = f.Flags,
                    FaultId = f.FaultId,
                    Deadline = f.Deadline is { } faultDeadline ? Timestamp.FromDateTimeOffset(faultDeadline) : null,
                };
                break;
            case EventPayload.ConversionRequested r:
                result.ConversionRequested = new Api.ConversionRequestedEvent
                {
                    Vcpu = (uint)r.Vcpu,
                    Gpa = r.Gpa,
                    Size = r.Size,
                    ToPrivate = r.ToPrivate,
                    FaultId = r.FaultId,
                    Deadline = r.Deadline is { } requestDeadline ? Timestamp.FromDateTimeOffset(requestDeadline) : null,
                };
                break;
            case EventPayload.ConversionApplied a:
                result.ConversionApplied = new Api.ConversionAppliedEvent
                {
                    Gpa = a.Gpa,
                    Size = a.Size,
                    ToPrivate = a.ToPrivate,
                    Initiator = EnumMapping.ToProto(a.Initiator),
                    Duration = Nanoseconds(a.DurationNanoseconds),
                    FaultId = a.FaultId,
                };
                if (a.Vcpu is { } vcpu)
                {
                    result.ConversionApplied.Vcpu = (uint)vcpu;
                }

                break;
            case EventPayload.FaultResolved r:
                result.FaultResolved = new Api.FaultResolvedEvent
                {
                    FaultId = r.FaultId,
                    Action = EnumMapping.ToProto(r.Action),
                    ByFallback = r.ByFallback,
                    Latency = Nanoseconds(r.LatencyNanoseconds),
                    Vcpu = (uint)r.Vcpu,
                };
                break;
            case EventPayload.VcpuStateChanged s:
                result.VcpuStateChanged = new Api.VcpuStateChangedEvent { Vcpu = (uint)s.Vcpu, State = EnumMapping.ToProto(s.State), Reason = s.Reason };
                break;
            case EventPayload.GuestReport g:
                result.GuestReport = new Api.GuestReportEvent { Vcpu = (uint)g.Vcpu, Port = g.Port, Value = g.Value };
                break;
            case EventPayload.VmLost l:
                result.VmLost = new Api.VmLostEvent { InstanceId = l.InstanceId, Reason = l.Reason };
                break;
        }

        return result;
    }

    /// <summary>Core's filter from a contract filter (null: everything).</summary>
    public static EventFilter ToCore(Api.EventFilter? filter)
    {
        if (filter is null)
        {
            return EventFilter.All;
        }

        var kinds = Require.DistinctSpecified(filter.Kinds, "filter.kinds").Select(EnumMapping.ToCore).ToHashSet();
        var vcpus = new HashSet<int>();
        foreach (var vcpu in filter.Vcpus)
        {
            vcpus.Add((int)Require.Between(vcpu, 0, int.MaxValue, "filter.vcpus"));
        }

        return new EventFilter(kinds, vcpus);
    }

    /// <summary>Protobuf Duration keeps nanoseconds exactly; TimeSpan would round them to 100 ns ticks.</summary>
    public static Duration Nanoseconds(long nanoseconds) => new()
    {
        Seconds = nanoseconds / 1_000_000_000,
        Nanos = (int)(nanoseconds % 1_000_000_000),
    };
}
