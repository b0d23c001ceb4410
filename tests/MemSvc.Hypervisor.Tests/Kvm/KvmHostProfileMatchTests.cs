using MemSvc.Hypervisor.Simulated;
using MemSvc.Hypervisor.Tests.Conformance;

namespace MemSvc.Hypervisor.Tests.Kvm;

/// <summary>
/// Whether the real host is the host a simulated profile claims to be. The Kvm* conformance classes take their
/// expectations from the host's own probe (<see cref="HostShape.Of"/>) and the profile classes from the profile,
/// so both run the same rows against the same expectations exactly when the two agree on what is compared here:
/// the capabilities the tests key on, every KVM_CHECK_EXTENSION answer both report, and the host-derived answers.
/// Runs when MEMSVC_KVM_PROFILE names a profile (e.g. kvm-7.2-debian in the nested guest with sid's 7.2.13), and
/// fails listing every difference.
/// </summary>
public class KvmHostProfileMatchTests
{
    public const string Variable = "MEMSVC_KVM_PROFILE";

    [Fact]
    public void Kvm_host_is_the_shape_of_the_profile_named_by_MEMSVC_KVM_PROFILE()
    {
        if (Environment.GetEnvironmentVariable(Variable) is not { Length: > 0 } name)
        {
            Assert.Skip($"{Variable} is not set: set it to a simulated host profile ({string.Join(", ", SimulatedHostProfile.Names)}) to compare this host with it");
            return;
        }

        using var real = KvmTestHost.Open();
        using var model = new SimulatedHypervisor(new SimulatedHypervisorOptions { Profile = SimulatedHostProfile.ByName(name) });
        var (r, m) = (real.Capabilities, model.Capabilities);
        var differences = new List<string>();
        void Compare<T>(string what, T host, T profile)
        {
            if (!EqualityComparer<T>.Default.Equals(host, profile))
            {
                differences.Add($"{what}: host {host}, profile {profile}");
            }
        }

        Compare("VM types", string.Join(",", r.VmTypes), string.Join(",", m.VmTypes));
        Compare("USER_MEMORY2", r.UserMemory2, m.UserMemory2);
        Compare("GUEST_MEMFD", r.GuestMemfd, m.GuestMemfd);
        Compare("guest_memfd flags of a default VM", r.GuestMemfdFlags, m.GuestMemfdFlags);
        Compare("MEMORY_ATTRIBUTES", r.MemoryAttributes, m.MemoryAttributes);
        Compare("MEMORY_FAULT_INFO", r.MemoryFaultInfo, m.MemoryFaultInfo);
        Compare("EXIT_HYPERCALL", r.ExitHypercallMask, m.ExitHypercallMask);
        Compare("NR_MEMSLOTS", r.MaxMemslots, m.MaxMemslots);
        Compare("MAX_VCPUS", r.MaxVcpus, m.MaxVcpus);
        Compare("GPA bits", r.MaxGpaBits, m.MaxGpaBits);
        foreach (var (key, value) in m.Raw.Where(p => r.Raw.ContainsKey(p.Key)).OrderBy(p => p.Key, StringComparer.Ordinal))
        {
            Compare(key, r.Raw[key], value);
        }

        Compare("host-derived answers", HostShape.Of(real), HostShape.Of(model));

        Assert.True(differences.Count == 0, $"this host ({r.KernelVersion}) is not the shape of profile {name}: {string.Join("; ", differences)}");
    }
}
