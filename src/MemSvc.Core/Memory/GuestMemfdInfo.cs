using MemSvc.Hypervisor;

namespace MemSvc.Core.Memory;

/// <summary>A guest_memfd file of a VM: <paramref name="Id"/> is 1, 2, ... per VM; sizes in bytes.</summary>
public sealed record GuestMemfdInfo(string VmId, ulong Id, ulong Size, GuestMemfdFlags Flags, DateTimeOffset CreateTime);
