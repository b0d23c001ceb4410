using MemSvc.Core.Events;
using MemSvc.Core.Faults;
using MemSvc.Core.Memory;
using MemSvc.Core.Vcpus;
using MemSvc.Core.Vms;
using MemSvc.Hypervisor;
using Api = MemSvc.Contracts.V1;

namespace MemSvc.Server.Mapping;

/// <summary>
/// The contract's enums to Core's and the backend's, and back. Request values are already known to be defined
/// (Validation.Require); a value with no counterpart maps to Unspecified, which Core then refuses.
/// </summary>
internal static class EnumMapping
{
    public const string KvmBackend = "kvm";
    public const string SimulatedBackend = "simulated";

    public static string? ToCore(Api.Backend backend) => backend switch
    {
        Api.Backend.Kvm => KvmBackend,
        Api.Backend.Simulated => SimulatedBackend,
        _ => null,
    };

    public static Api.Backend ToProtoBackend(string backend) => backend switch
    {
        KvmBackend => Api.Backend.Kvm,
        SimulatedBackend => Api.Backend.Simulated,
        _ => Api.Backend.Unspecified,
    };

    public static VmType ToCore(Api.VmType type) => type switch
    {
        Api.VmType.SwProtected => VmType.SwProtected,
        Api.VmType.Sev => VmType.Sev,
        Api.VmType.SevEs => VmType.SevEs,
        Api.VmType.Snp => VmType.Snp,
        Api.VmType.Tdx => VmType.Tdx,
        _ => VmType.Default,
    };

    public static Api.VmType ToProto(VmType type) => type switch
    {
        VmType.Default => Api.VmType.Default,
        VmType.SwProtected => Api.VmType.SwProtected,
        VmType.Sev => Api.VmType.Sev,
        VmType.SevEs => Api.VmType.SevEs,
        VmType.Snp => Api.VmType.Snp,
        VmType.Tdx => Api.VmType.Tdx,
        _ => Api.VmType.Unspecified,
    };

    public static FaultPolicy ToCore(Api.FaultPolicy policy) => (FaultPolicy)(int)policy;

    public static Api.FaultPolicy ToProto(FaultPolicy policy) => (Api.FaultPolicy)(int)policy;

    public static FaultAction ToCore(Api.FaultAction action) => (FaultAction)(int)action;

    public static Api.FaultAction ToProto(FaultAction action) => (Api.FaultAction)(int)action;

    public static Api.VmState ToProto(VmState state) => (Api.VmState)(int)state;

    public static Api.VmEndReason ToProto(VmEndReason reason) => (Api.VmEndReason)(int)reason;

    public static Api.VcpuState ToProto(VcpuState state) => (Api.VcpuState)(int)state;

    public static Api.ConversionInitiator ToProto(ConversionInitiator initiator) => (Api.ConversionInitiator)(int)initiator;

    public static EventKind ToCore(Api.EventKind kind) => (EventKind)(int)kind;

    public static Api.VcpuExitReason ToProto(VcpuExitKind kind) => (Api.VcpuExitReason)(int)kind;

    public static SharedBackingKind ToCore(Api.SharedBacking backing) => (SharedBackingKind)(int)backing;

    public static Api.SharedBacking ToProto(SharedBackingKind backing) => (Api.SharedBacking)(int)backing;

    public static GuestMemfdFlags ToCore(IEnumerable<Api.GuestMemfdFlag> flags) =>
        flags.Aggregate(GuestMemfdFlags.None, (all, flag) => all | flag switch
        {
            Api.GuestMemfdFlag.Mmap => GuestMemfdFlags.Mmap,
            Api.GuestMemfdFlag.InitShared => GuestMemfdFlags.InitShared,
            _ => GuestMemfdFlags.None,
        });

    public static IEnumerable<Api.GuestMemfdFlag> ToProto(GuestMemfdFlags flags)
    {
        if (flags.HasFlag(GuestMemfdFlags.Mmap))
        {
            yield return Api.GuestMemfdFlag.Mmap;
        }

        if (flags.HasFlag(GuestMemfdFlags.InitShared))
        {
            yield return Api.GuestMemfdFlag.InitShared;
        }
    }

    public static MemoryRegionFlags ToCore(IEnumerable<Api.MemoryRegionFlag> flags) =>
        flags.Aggregate(MemoryRegionFlags.None, (all, flag) => all | flag switch
        {
            Api.MemoryRegionFlag.LogDirtyPages => MemoryRegionFlags.LogDirtyPages,
            Api.MemoryRegionFlag.Readonly => MemoryRegionFlags.ReadOnly,
            Api.MemoryRegionFlag.GuestMemfd => MemoryRegionFlags.GuestMemfd,
            _ => MemoryRegionFlags.None,
        });

    public static IEnumerable<Api.MemoryRegionFlag> ToProto(MemoryRegionFlags flags)
    {
        if (flags.HasFlag(MemoryRegionFlags.LogDirtyPages))
        {
            yield return Api.MemoryRegionFlag.LogDirtyPages;
        }

        if (flags.HasFlag(MemoryRegionFlags.ReadOnly))
        {
            yield return Api.MemoryRegionFlag.Readonly;
        }

        if (flags.HasFlag(MemoryRegionFlags.GuestMemfd))
        {
            yield return Api.MemoryRegionFlag.GuestMemfd;
        }
    }

    public static MemoryAttributes ToCore(IEnumerable<Api.MemoryAttribute> attributes) =>
        attributes.Aggregate(MemoryAttributes.None, (all, attribute) => all | attribute switch
        {
            Api.MemoryAttribute.Private => MemoryAttributes.Private,
            _ => MemoryAttributes.None,
        });

    public static IEnumerable<Api.MemoryAttribute> ToProto(MemoryAttributes attributes)
    {
        if (attributes.HasFlag(MemoryAttributes.Private))
        {
            yield return Api.MemoryAttribute.Private;
        }
    }

    public static AccessIntent ToCore(Api.AccessIntent intent) =>
        intent == Api.AccessIntent.Private ? AccessIntent.Private : AccessIntent.Shared;
}
