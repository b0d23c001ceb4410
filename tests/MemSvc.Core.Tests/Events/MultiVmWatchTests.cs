using System.Diagnostics.Metrics;
using MemSvc.Core.Errors;
using MemSvc.Core.Events;
using MemSvc.Core.Identity;
using MemSvc.Core.Options;
using MemSvc.Core.Vms;
using MemSvc.Hypervisor;
using static MemSvc.Core.Tests.Support.Core;

namespace MemSvc.Core.Tests.Events;

public class MultiVmWatchTests
{
    private const ulong Gpa = 0x1_0000_0000;

    [Fact]
    public async Task Watching_all_vms_includes_new_ones_keeps_per_vm_order_and_hides_other_owners()
    {
        await using var manager = Manager();
        NewVm(manager, Alice, "a1");
        Convert(manager, Alice, "a1", 0);
        Convert(manager, Alice, "a1", 1);

        await using var watch = manager.Events.WatchEvents(Alice, null, 2, cancellationToken: Ct).GetAsyncEnumerator(Ct);
        var first = watch.MoveNextAsync();
        NewVm(manager, Alice, "a2");
        NewVm(manager, Bob, "b1");
        Convert(manager, Bob, "b1", 0);
        Convert(manager, Alice, "a2", 0);
        Convert(manager, Alice, "a1", 2);
        Convert(manager, Alice, "a2", 1);

        var seen = new List<(string Vm, ulong Sequence, ulong Gpa)>();
        var more = await first;
        while (more)
        {
            var applied = (EventPayload.ConversionApplied)watch.Current.Payload;
            seen.Add((watch.Current.VmId, watch.Current.Sequence, applied.Gpa));
            if (seen.Count == 4)
            {
                break;
            }

            more = await watch.MoveNextAsync();
        }

        Assert.Equal([(2UL, Gpa + K4), (3UL, Gpa + (2 * K4))], seen.Where(s => s.Vm == "a1").Select(s => (s.Sequence, s.Gpa)));
        Assert.Equal([(1UL, Gpa), (2UL, Gpa + K4)], seen.Where(s => s.Vm == "a2").Select(s => (s.Sequence, s.Gpa)));
    }

    [Fact]
    public async Task Watching_all_vms_from_a_compacted_sequence_fails_naming_the_vm()
    {
        await using var manager = Manager(new CoreOptions { JournalCapacity = 4 });
        NewVm(manager, Alice, "small");
        for (var i = 0; i < 6; i++)
        {
            Convert(manager, Alice, "small", i);
        }

        await using var watch = manager.Events.WatchEvents(Alice, null, 1, cancellationToken: Ct).GetAsyncEnumerator(Ct);
        var error = await Assert.ThrowsAsync<CoreException>(async () => await watch.MoveNextAsync());
        Assert.Equal((ErrorReasons.SequenceCompacted, "3", "small"), (error.Reason, error.Metadata["oldest_sequence"], error.Metadata["vm_id"]));
    }

    [Fact]
    public async Task Conversions_and_memory_bytes_are_measured()
    {
        await using var manager = Manager();
        NewVm(manager, Alice, "metered");
        var conversions = 0L;
        var privateBytes = -1L;
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == "MemSvc.Core" && instrument.Name is "memsvc.core.conversions" or "memsvc.core.memory.bytes")
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) =>
        {
            var dict = tags.ToArray().ToDictionary(t => t.Key, t => t.Value);
            if (!Equals(dict["vm"], "metered"))
            {
                return;
            }

            if (instrument.Name == "memsvc.core.conversions" && Equals(dict["initiator"], "api"))
            {
                Interlocked.Add(ref conversions, value);
            }
            else if (instrument.Name == "memsvc.core.memory.bytes" && Equals(dict["attribute"], "private"))
            {
                privateBytes = value;
            }
        });
        listener.Start();

        Convert(manager, Alice, "metered", 0);
        Convert(manager, Alice, "metered", 3);
        listener.RecordObservableInstruments();

        Assert.Equal(2, conversions);
        Assert.Equal(2 * (long)K4, privateBytes);
    }

    private static void NewVm(VmManager manager, CallerIdentity owner, string vmId)
    {
        manager.Vms.CreateVm(owner, new() { VmId = vmId, VmType = VmType.SwProtected });
        var memfd = manager.GuestMemfds.CreateGuestMemfd(owner, vmId, M, GuestMemfdFlags.None);
        manager.MemoryRegions.SetMemoryRegion(owner, vmId, new() { Slot = 0, Gpa = Gpa, Size = M, Flags = MemoryRegionFlags.GuestMemfd, GuestMemfdId = memfd.Id });
    }

    private static void Convert(VmManager manager, CallerIdentity owner, string vmId, int page) =>
        manager.Memory.ConvertMemory(owner, vmId, Gpa + ((ulong)page * K4), K4, toPrivate: true);
}
