using MemSvc.Hypervisor.Memory;

namespace MemSvc.Hypervisor.Simulated;

/// <summary>Where the bytes of one guest page live: a store and the page's offset in it.</summary>
internal readonly record struct PageTarget(SparsePageStore Store, ulong Offset);
