using System.Diagnostics.Metrics;
using MemSvc.Core.Memory;
using MemSvc.Core.Telemetry;
using MemSvc.Core.Vms;
using MemSvc.Hypervisor;
using static MemSvc.Core.Tests.Support.Core;

namespace MemSvc.Core.Tests.Telemetry;

/// <summary>The process-wide memory gauge over several VM managers, as the tests' servers run them side by side.</summary>
public class MemoryGaugeTests
{
    private const ulong Gpa = 0x1_0000_0000;

    [Fact]
    public async Task The_memory_gauge_reads_every_live_manager_and_drops_a_disposed_one()
    {
        var first = "gauge-a-" + Guid.NewGuid().ToString("N")[..12];
        var second = "gauge-b-" + Guid.NewGuid().ToString("N")[..12];
        var a = Manager();
        await using var b = Manager();
        VmWithPrivatePages(a, first, 1);
        VmWithPrivatePages(b, second, 3);

        var whileBothLive = Observe(first, second);
        await a.DisposeAsync();
        var afterDispose = Observe(first, second);

        Assert.Equal(
            new Dictionary<(string, string), long>
            {
                [(first, "private")] = (long)K4,
                [(first, "shared")] = (long)(M - K4),
                [(second, "private")] = 3 * (long)K4,
                [(second, "shared")] = (long)(M - (3 * K4)),
            },
            whileBothLive);
        Assert.Equal(
            new Dictionary<(string, string), long>
            {
                [(second, "private")] = 3 * (long)K4,
                [(second, "shared")] = (long)(M - (3 * K4)),
            },
            afterDispose);
    }

    // One collection of memsvc.core.memory.bytes, keeping only the points of the given VMs.
    private static Dictionary<(string Vm, string Attribute), long> Observe(params string[] vms)
    {
        var points = new Dictionary<(string, string), long>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == CoreActivities.MeterName && instrument.Name == "memsvc.core.memory.bytes")
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((_, value, tags, _) =>
        {
            var dict = tags.ToArray().ToDictionary(t => t.Key, t => t.Value);
            if (vms.Contains((string)dict["vm"]!))
            {
                points.Add(((string)dict["vm"]!, (string)dict["attribute"]!), value);
            }
        });
        listener.Start();
        listener.RecordObservableInstruments();
        return points;
    }

    private static void VmWithPrivatePages(VmManager manager, string vmId, int pages)
    {
        manager.Vms.CreateVm(Alice, new() { VmId = vmId, VmType = VmType.SwProtected });
        var memfd = manager.GuestMemfds.CreateGuestMemfd(Alice, vmId, M, GuestMemfdFlags.None);
        manager.MemoryRegions.SetMemoryRegion(Alice, vmId, new() { Slot = 0, Gpa = Gpa, Size = M, Flags = MemoryRegionFlags.GuestMemfd, GuestMemfdId = memfd.Id });
        manager.Memory.ConvertMemory(Alice, vmId, Gpa, (ulong)pages * K4, toPrivate: true);
    }
}
