using Google.Protobuf.WellKnownTypes;
using MemSvc.Core.Vms;
using MemSvc.Server.Validation;
using Api = MemSvc.Contracts.V1;

namespace MemSvc.Server.Mapping;

/// <summary>VMs between the contract and Core.</summary>
internal static class VmMapping
{
    public static Api.Vm ToProto(VmInfo vm) => new()
    {
        Name = ResourceNames.Vm(vm.VmId),
        Owner = vm.Owner,
        Backend = EnumMapping.ToProtoBackend(vm.Backend),
        VmType = EnumMapping.ToProto(vm.VmType),
        VcpuCount = (uint)vm.VcpuCount,
        FaultPolicy = EnumMapping.ToProto(vm.FaultPolicy),
        ResolutionTimeout = Duration.FromTimeSpan(vm.ResolutionTimeout),
        TimeoutFallback = EnumMapping.ToProto(vm.TimeoutFallback),
        CreateTime = Timestamp.FromDateTimeOffset(vm.CreateTime),
        State = EnumMapping.ToProto(vm.State),
        LastEventSequence = vm.LastEventSequence,
        Uid = vm.Uid,
    };

    /// <summary>Core's request from a validated contract request.</summary>
    public static CreateVmRequest ToCore(Api.CreateVmRequest request, TimeSpan resolutionTimeout) => new()
    {
        VmId = request.VmId,
        Backend = EnumMapping.ToCore(request.Backend),
        VmType = EnumMapping.ToCore(request.VmType),
        VcpuCount = (int)request.VcpuCount,
        FaultPolicy = EnumMapping.ToCore(request.FaultPolicy),
        ResolutionTimeout = resolutionTimeout,
        TimeoutFallback = EnumMapping.ToCore(request.TimeoutFallback),
    };
}
