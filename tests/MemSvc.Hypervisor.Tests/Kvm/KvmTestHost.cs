using MemSvc.Hypervisor.Kvm;

namespace MemSvc.Hypervisor.Tests.Kvm;

/// <summary>Opens the real /dev/kvm for a test, or skips the test with the reason it cannot be opened.</summary>
internal static class KvmTestHost
{
    public static KvmHypervisor Open()
    {
        if (!KvmHypervisor.TryOpen(out var hypervisor, out var reason))
        {
            Assert.Skip(reason);
        }

        return hypervisor;
    }
}
