using MemSvc.Hypervisor.Kvm;
using MemSvc.Hypervisor.Tests.Capabilities;

namespace MemSvc.Hypervisor.Tests.Kvm;

/// <summary>
/// Opens the real /dev/kvm for a test, or skips the test with the reason it cannot be opened; then skips it, naming
/// the capability, when the host's probe lacks something in <c>needs</c>.
/// </summary>
internal static class KvmTestHost
{
    public static KvmHypervisor Open(HostNeed needs = HostNeed.None)
    {
        if (!KvmHypervisor.TryOpen(out var hypervisor, out var reason))
        {
            CapabilityLog.Record("kvm", needs);
            Assert.Skip(reason);
        }

        try
        {
            HostRequirements.Require(hypervisor, needs);
        }
        catch
        {
            hypervisor.Dispose();
            throw;
        }

        return hypervisor;
    }
}
