using Grpc.Net.Client;
using MemSvc.Contracts.V1;

namespace MemSvc.Server.Tests.Infrastructure;

/// <summary>The generated clients of every MemSvc service, on one channel.</summary>
public sealed class Clients(GrpcChannel channel)
{
    public GrpcChannel Channel { get; } = channel;

    public HostService.HostServiceClient Host { get; } = new(channel);

    public VmService.VmServiceClient Vms { get; } = new(channel);

    public GuestMemoryService.GuestMemoryServiceClient Memory { get; } = new(channel);

    public VcpuService.VcpuServiceClient Vcpus { get; } = new(channel);

    public EventService.EventServiceClient Events { get; } = new(channel);
}
