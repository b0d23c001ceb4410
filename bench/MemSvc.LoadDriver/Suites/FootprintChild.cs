using System.Globalization;
using MemSvc.Core.Identity;
using MemSvc.Core.Vms;
using MemSvc.Hypervisor;
using MemSvc.LoadDriver.Hosting;
using MemSvc.LoadDriver.Measure;

namespace MemSvc.LoadDriver.Suites;

/// <summary>
/// The footprint's server process (this executable with --footprint-child): the real host with its default
/// settings, listening, and VMs created through its own VmManager. Each VM gets its own owner because the API's
/// per-owner quotas (64 VMs, 64 GiB) would stop one client at 64 VMs; the service allows many owners. The 1,000
/// guest_memfds of 1 GiB are sparse (never written), so the host's guest-memory cap is raised to its largest
/// overcommit ratio: at the default of 1 it would refuse them past the machine's RAM, as it should for real guests.
/// Prints "rss {vms} {bytes}" lines.
/// </summary>
internal static class FootprintChild
{
    public const string Flag = "--footprint-child";
    public static readonly int[] VmCounts = [0, 100, 1_000];

    public static async Task<int> RunAsync()
    {
        await using var server = await BenchServer.StartAsync(journalRetention: 65_536, ("MemSvc:HostMemory:OvercommitRatio", "64")).ConfigureAwait(false);
        var manager = server.Services.GetRequiredService<VmManager>();
        var created = 0;
        foreach (var target in VmCounts)
        {
            for (; created < target; created++)
            {
                var caller = new CallerIdentity("bench-owner-" + created.ToString(CultureInfo.InvariantCulture));
                var vm = manager.Vms.CreateVm(caller, new CreateVmRequest { Backend = "simulated", VmType = VmType.SwProtected });
                manager.GuestMemfds.CreateGuestMemfd(caller, vm.VmId, 1UL << 30, GuestMemfdFlags.None);
            }

            // Settle as a long-running server would: collected, compacted, trimmed.
            GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);
            await Task.Delay(500).ConfigureAwait(false);
            Console.WriteLine($"rss {target} {Rss.OfSelf()}");
        }

        return 0;
    }
}
