using Google.Protobuf.WellKnownTypes;
using MemSvc.Core.Backends;
using MemSvc.Server.Hosting;
using Api = MemSvc.Contracts.V1;

namespace MemSvc.Server.Mapping;

/// <summary>GetHostInfo's answer from what the backends probed at start-up.</summary>
internal static class HostMapping
{
    public static Api.GetHostInfoResponse ToProto(HostInfo host, ServerInstance instance, string serverVersion, TimeSpan defaultResolutionTimeout, int journalRetention)
    {
        var response = new Api.GetHostInfoResponse
        {
            InstanceId = instance.Id,
            StartTime = Timestamp.FromDateTimeOffset(instance.StartedAt),
            DefaultBackend = EnumMapping.ToProtoBackend(host.DefaultBackend),
            ServerVersion = serverVersion,
            DefaultResolutionTimeout = Duration.FromTimeSpan(defaultResolutionTimeout),
            JournalRetention = (ulong)journalRetention,
        };
        foreach (var backend in host.Backends)
        {
            var caps = backend.Capabilities;
            var info = new Api.BackendInfo
            {
                Backend = EnumMapping.ToProtoBackend(backend.Name),
                KernelVersion = caps.KernelVersion,
                ApiVersion = caps.ApiVersion,
                UserMemory2 = caps.UserMemory2,
                GuestMemfd = caps.GuestMemfd,
                MemoryFaultInfo = caps.MemoryFaultInfo,
                ExitHypercallMask = caps.ExitHypercallMask,
                MaxMemslots = (uint)caps.MaxMemslots,
                MaxVcpus = (uint)caps.MaxVcpus,
                MaxGpaBits = (uint)caps.MaxGpaBits,
            };
            info.VmTypes.AddRange(caps.VmTypes.Select(EnumMapping.ToProto));
            info.GuestMemfdFlags.AddRange(EnumMapping.ToProto(caps.GuestMemfdFlags));
            info.MemoryAttributes.AddRange(EnumMapping.ToProto(caps.MemoryAttributes));
            info.Capabilities.Add(caps.Raw.ToDictionary(c => c.Key, c => c.Value));
            response.Backends.Add(info);
        }

        return response;
    }
}
