using MemSvc.Core.Faults;
using MemSvc.Hypervisor;

namespace MemSvc.Core.Vms;

/// <summary>A VM as GetVm and ListVms report it.</summary>
/// <param name="Uid">This incarnation of the name (a UUID), assigned at creation; events carry it.</param>
/// <param name="LastEventSequence">The newest journal sequence; 0 before the first event.</param>
public sealed record VmInfo(
    string VmId,
    string Uid,
    string Owner,
    string Backend,
    VmType VmType,
    int VcpuCount,
    FaultPolicy FaultPolicy,
    TimeSpan ResolutionTimeout,
    FaultAction TimeoutFallback,
    DateTimeOffset CreateTime,
    VmState State,
    ulong LastEventSequence);

/// <summary>One page of ListVms; <paramref name="NextPageToken"/> is empty on the last page.</summary>
public sealed record VmPage(IReadOnlyList<VmInfo> Vms, string NextPageToken);
