using MemSvc.Server.Mapping;
using Api = MemSvc.Contracts.V1;
using Core = MemSvc.Core;

namespace MemSvc.Server.Tests.Mapping;

/// <summary>
/// The enums the server maps by value have the same members on both sides, so that a member added to Core or to
/// the contract without its twin fails here rather than mapping to a wrong value.
/// </summary>
public sealed class EnumMappingTests
{
    [Fact]
    public void Enums_mapped_by_value_name_the_same_members()
    {
        AssertSameMembers<Core.Faults.FaultPolicy, Api.FaultPolicy>();
        AssertSameMembers<Core.Faults.FaultAction, Api.FaultAction>();
        AssertSameMembers<Core.Vms.VmState, Api.VmState>();
        AssertSameMembers<Core.Vcpus.VcpuState, Api.VcpuState>();
        AssertSameMembers<Core.Events.ConversionInitiator, Api.ConversionInitiator>();
        AssertSameMembers<Core.Events.EventKind, Api.EventKind>();
        AssertSameMembers<Core.Memory.SharedBackingKind, Api.SharedBacking>();
        AssertSameMembers<Core.Events.VmEndReason, Api.VmEndReason>();
    }

    [Fact]
    public void Every_exit_kind_has_its_KVM_exit_reason()
    {
        var expected = new Dictionary<Core.Vcpus.VcpuExitKind, Api.VcpuExitReason>
        {
            [Core.Vcpus.VcpuExitKind.Unspecified] = Api.VcpuExitReason.Unspecified,
            [Core.Vcpus.VcpuExitKind.MemoryFault] = Api.VcpuExitReason.MemoryFault,
            [Core.Vcpus.VcpuExitKind.Hypercall] = Api.VcpuExitReason.Hypercall,
            [Core.Vcpus.VcpuExitKind.PortIo] = Api.VcpuExitReason.Io,
            [Core.Vcpus.VcpuExitKind.Mmio] = Api.VcpuExitReason.Mmio,
            [Core.Vcpus.VcpuExitKind.Halt] = Api.VcpuExitReason.Hlt,
            [Core.Vcpus.VcpuExitKind.Shutdown] = Api.VcpuExitReason.Shutdown,
            [Core.Vcpus.VcpuExitKind.InternalError] = Api.VcpuExitReason.InternalError,
            [Core.Vcpus.VcpuExitKind.Interrupted] = Api.VcpuExitReason.Intr,
            [Core.Vcpus.VcpuExitKind.GuestAbort] = Api.VcpuExitReason.GuestAbort,
            [Core.Vcpus.VcpuExitKind.RunError] = Api.VcpuExitReason.RunError,
        };

        Assert.Equal(Enum.GetValues<Core.Vcpus.VcpuExitKind>().Length, expected.Count);
        Assert.Equal(Enum.GetValues<Api.VcpuExitReason>().Length, expected.Count);
        Assert.All(expected, pair => Assert.Equal(pair.Value, EnumMapping.ToProto(pair.Key)));
    }

    [Fact]
    public void Every_vm_type_round_trips()
    {
        foreach (var type in Enum.GetValues<MemSvc.Hypervisor.VmType>())
        {
            Assert.Equal(type, EnumMapping.ToCore(EnumMapping.ToProto(type)));
        }

        Assert.Equal(Enum.GetValues<MemSvc.Hypervisor.VmType>().Length + 1, Enum.GetValues<Api.VmType>().Length);
    }

    private static void AssertSameMembers<TCore, TApi>()
        where TCore : struct, Enum
        where TApi : struct, Enum =>
        Assert.Equal(
            Enum.GetValues<TCore>().Select(v => $"{Convert.ToInt32(v, System.Globalization.CultureInfo.InvariantCulture)}={v}"),
            Enum.GetValues<TApi>().Select(v => $"{Convert.ToInt32(v, System.Globalization.CultureInfo.InvariantCulture)}={v}"));
}
