using MemSvc.Server.Hosting;

namespace MemSvc.Server.Tests.Hosting;

/// <summary>The host memory the cap is taken from: the cgroup v2 limit when set and below RAM, else MemTotal.</summary>
public sealed class ProcHostMemoryTests : IDisposable
{
    private const string Meminfo = "MemTotal:       24683748 kB\nMemFree:         1000000 kB\nMemAvailable:   20000000 kB\n";
    private const ulong MemTotalBytes = 24683748UL * 1024;

    private readonly string _directory = Directory.CreateTempSubdirectory("memsvc-hostmem-").FullName;

    [Theory]
    [InlineData("8589934592\n", 8589934592UL)]
    [InlineData("max\n", MemTotalBytes)]
    [InlineData(null, MemTotalBytes)]
    [InlineData("99999999999999\n", MemTotalBytes)]
    public void The_cgroup_limit_applies_when_set_and_below_the_machines_memory(string? memoryMax, ulong expected)
    {
        var meminfo = Path.Combine(_directory, "meminfo");
        var max = Path.Combine(_directory, "memory.max");
        File.WriteAllText(meminfo, Meminfo);
        if (memoryMax is not null)
        {
            File.WriteAllText(max, memoryMax);
        }

        Assert.Equal(expected, new ProcHostMemory(max, meminfo).AvailableBytes());
    }

    public void Dispose() => Directory.Delete(_directory, recursive: true);
}
