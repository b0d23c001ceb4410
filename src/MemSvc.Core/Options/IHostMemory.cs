namespace MemSvc.Core.Options;

/// <summary>The memory the host makes available to this process, in bytes (a cgroup limit, or the machine's RAM).</summary>
public interface IHostMemory
{
    ulong AvailableBytes();
}
