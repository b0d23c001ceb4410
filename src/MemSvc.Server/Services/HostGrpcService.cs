using System.Reflection;
using Grpc.Core;
using MemSvc.Contracts.V1;
using MemSvc.Core.Vms;
using MemSvc.Server.Hosting;
using MemSvc.Server.Mapping;
using Microsoft.Extensions.Options;

namespace MemSvc.Server.Services;

/// <summary>HostService: what the backends probed at start-up.</summary>
internal sealed class HostGrpcService(VmManager manager, ServerInstance instance, IOptions<MemSvcOptions> options) : HostService.HostServiceBase
{
    private static readonly string Version =
        typeof(HostGrpcService).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "unknown";

    public override Task<GetHostInfoResponse> GetHostInfo(GetHostInfoRequest request, ServerCallContext context) =>
        Task.FromResult(HostMapping.ToProto(manager.GetHostInfo(), instance, Version, options.Value.ResolutionTimeout, options.Value.JournalRetention));
}
