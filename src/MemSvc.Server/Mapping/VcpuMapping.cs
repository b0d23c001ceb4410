using MemSvc.Core.Vcpus;
using MemSvc.Server.Validation;
using Api = MemSvc.Contracts.V1;

namespace MemSvc.Server.Mapping;

/// <summary>vCPUs between Core and the contract.</summary>
internal static class VcpuMapping
{
    public static Api.Vcpu ToProto(VcpuInfo vcpu)
    {
        var result = new Api.Vcpu
        {
            Name = ResourceNames.Vcpu(vcpu.VmId, vcpu.Index),
            Index = (uint)vcpu.Index,
            State = EnumMapping.ToProto(vcpu.State),
            StateReason = vcpu.Reason,
            ProgramLoaded = vcpu.ProgramLoaded,
            LastExit = EnumMapping.ToProto(vcpu.LastExit),
            PendingFaultId = vcpu.CurrentFaultId,
        };
        foreach (var (kind, count) in vcpu.ExitCounts.Where(e => e.Value > 0).OrderBy(e => e.Key))
        {
            result.ExitCounts.Add(new Api.VcpuExitCount { Reason = EnumMapping.ToProto(kind), Count = (ulong)count });
        }

        return result;
    }
}
