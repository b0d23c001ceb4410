using MemSvc.Core.Options;

namespace MemSvc.Core.Tests.Support;

/// <summary>A host of exactly <paramref name="bytes"/> of memory, so that the host-wide cap is an exact figure.</summary>
internal sealed class FixedHostMemory(ulong bytes) : IHostMemory
{
    public ulong AvailableBytes() => bytes;
}
