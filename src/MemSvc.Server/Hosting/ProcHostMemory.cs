using System.Globalization;
using MemSvc.Core.Options;

namespace MemSvc.Server.Hosting;

/// <summary>
/// The memory the host gives this process: the cgroup v2 limit (memory.max) when one is set and below the
/// machine's RAM, else MemTotal from /proc/meminfo. Under Kubernetes or a systemd MemoryMax= the cgroup limit is
/// what the kernel's OOM killer enforces, so it, not the machine's RAM, bounds what guests may be promised.
/// </summary>
internal sealed class ProcHostMemory(string cgroupMemoryMax = "/sys/fs/cgroup/memory.max", string meminfo = "/proc/meminfo") : IHostMemory
{
    public ulong AvailableBytes()
    {
        var total = MemTotal();
        return CgroupLimit() is { } limit && limit < total ? limit : total;
    }

    // "max" (no limit) or an unreadable file (cgroup v1, no cgroup mount) mean no limit of the cgroup's own.
    private ulong? CgroupLimit()
    {
        try
        {
            var text = File.ReadAllText(cgroupMemoryMax).Trim();
            return ulong.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var bytes) ? bytes : null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    // "MemTotal:       24683748 kB". Without it (not Linux) there is nothing to cap by.
    private ulong MemTotal()
    {
        try
        {
            foreach (var line in File.ReadLines(meminfo))
            {
                var fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                if (fields.Length == 3 && fields[0] == "MemTotal:" && fields[2] == "kB"
                    && ulong.TryParse(fields[1], NumberStyles.None, CultureInfo.InvariantCulture, out var kib))
                {
                    return kib * 1024;
                }
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
        }

        return ulong.MaxValue;
    }
}
