namespace MemSvc.Hypervisor.Tests.Capabilities;

/// <summary>
/// Appends "test name, backend, needs" for every gated test to the file named by MEMSVC_CAPABILITY_LOG, when set.
/// tests/kvm-host/summarize.sh joins it with the run's results into ran/passed/skipped per capability. A test
/// that opens its hypervisor more than once is recorded more than once; the summary keeps the union of its needs.
/// </summary>
public static class CapabilityLog
{
    public const string Variable = "MEMSVC_CAPABILITY_LOG";

    /// <summary>Starts the line that states what a backend's probe found (tests/kvm-host/summarize.py prints it).</summary>
    public const string ProbeLinePrefix = "#probe";

    private static readonly Lock Gate = new();

    // Backends whose probe this process has already written.
    private static readonly HashSet<string> ProbesWritten = new(StringComparer.Ordinal);

    /// <summary>
    /// Writes, once per process, what a real host's probe found (the kvm backend's; a simulated profile states its
    /// answers in its source): the capabilities the tests are gated on, as the run's own record of its host.
    /// </summary>
    public static void RecordProbe(IHypervisor hypervisor, Func<bool> defaultVmHasAttributesIoctl)
    {
        var caps = hypervisor.Capabilities;
        if (caps.Backend != "kvm" || Environment.GetEnvironmentVariable(Variable) is not { Length: > 0 } path)
        {
            return;
        }

        lock (Gate)
        {
            if (!ProbesWritten.Add(caps.Backend))
            {
                return;
            }
        }

        var line = $"{ProbeLinePrefix}\t{caps.Backend}: {Describe(caps, defaultVmHasAttributesIoctl())}\n";
        lock (Gate)
        {
            File.AppendAllText(path, line);
        }
    }

    /// <summary>The probed capabilities the tests are gated on, in one line.</summary>
    public static string Describe(HypervisorCapabilities caps, bool defaultVmHasAttributesIoctl)
    {
        long Raw(string name) => caps.Raw.TryGetValue(name, out var value) ? value : 0;
        var flags = caps.GuestMemfdFlags == GuestMemfdFlags.None ? "none" : caps.GuestMemfdFlags.ToString().Replace(", ", "|", StringComparison.Ordinal);
        return string.Join("; ",
            $"kernel {caps.KernelVersion}",
            $"VM types {string.Join(",", caps.VmTypes)}",
            $"USER_MEMORY2 {(caps.UserMemory2 ? 1 : 0)}",
            $"GUEST_MEMFD {(caps.GuestMemfd ? 1 : 0)}, flags {flags}",
            $"MEMORY_ATTRIBUTES 0x{(ulong)caps.MemoryAttributes:x} on /dev/kvm, its ioctl on a default VM {(defaultVmHasAttributesIoctl ? "yes" : "no (ENOTTY)")}",
            $"MEMORY_FAULT_INFO {(caps.MemoryFaultInfo ? 1 : 0)}",
            $"EXIT_HYPERCALL 0x{caps.ExitHypercallMask:x}",
            $"GPA bits {caps.MaxGpaBits}",
            $"address spaces {Math.Max(1, Raw("KVM_CAP_MULTI_ADDRESS_SPACE"))}",
            $"PRE_FAULT_MEMORY {Raw("KVM_CAP_PRE_FAULT_MEMORY")}",
            $"MAX_VCPUS {caps.MaxVcpus}",
            $"NR_MEMSLOTS {caps.MaxMemslots}");
    }

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
