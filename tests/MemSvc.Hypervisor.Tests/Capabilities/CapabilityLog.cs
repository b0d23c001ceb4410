namespace MemSvc.Hypervisor.Tests.Capabilities;

/// <summary>
/// Appends "test name, backend, needs" for every gated test to the file named by MEMSVC_CAPABILITY_LOG, when set.
/// tests/kvm-host/summarize.sh joins it with the run's results into ran/passed/skipped per capability. A test
/// that opens its hypervisor more than once is recorded more than once; the summary keeps the union of its needs.
/// </summary>
public static class CapabilityLog
{
    public const string Variable = "MEMSVC_CAPABILITY_LOG";

    private static readonly Lock Gate = new();

    public static void Record(string backend, HostNeed needs)
    {
        if (Environment.GetEnvironmentVariable(Variable) is not { Length: > 0 } path)
        {
            return;
        }

        var test = TestContext.Current.Test?.TestDisplayName ?? "(outside a test)";
        var line = $"{test}\t{backend}\t{Names(needs)}\n";
        lock (Gate)
        {
            File.AppendAllText(path, line);
        }
    }

    /// <summary>The needs as the summary's column names; a test that needs only the hypervisor is "kvm" or "simulated".</summary>
    public static string Names(HostNeed needs)
    {
        var names = new List<string>();
        if ((needs & HostNeed.GuestMemfdMmapShared) == HostNeed.GuestMemfdMmapShared)
        {
            names.Add("guest_memfd+mmap+init_shared");
        }
        else if ((needs & HostNeed.GuestMemfdMmap) == HostNeed.GuestMemfdMmap)
        {
            names.Add("guest_memfd+mmap");
        }
        else if (needs.HasFlag(HostNeed.GuestMemfd))
        {
            names.Add("guest_memfd");
        }

        if (needs.HasFlag(HostNeed.MemoryAttributesIoctl))
        {
            names.Add("memory_attributes");
        }

        if (needs.HasFlag(HostNeed.MapGpaRangeExit))
        {
            names.Add("map_gpa_range_exit");
        }

        if (needs.HasFlag(HostNeed.MemoryFaultInfo))
        {
            names.Add("memory_fault_info");
        }

        return names.Count == 0 ? "none" : string.Join(",", names);
    }
}
