using System.Text;
using MemSvc.Core.Handoff;
using MemSvc.Core.Options;
using MemSvc.Core.Vcpus;
using MemSvc.Core.Vms;
using MemSvc.Hypervisor;
using static MemSvc.Core.Tests.Support.Core;

namespace MemSvc.Core.Tests.Vms;

/// <summary>
/// Version 3's journals copied ahead of the freeze: the adopted journal is the old one, event for event, whether
/// events came between the copy and the freeze, and whether the old journal compacted past the copy meanwhile.
/// </summary>
public class JournalCopyTests
{
    [Theory]
    [InlineData(64, 2)]
    [InlineData(64, 0)]
    [InlineData(4, 10)]
    public async Task The_adopted_journal_holds_the_old_ones_events_when_the_copy_is_joined_to_what_came_after_it(int capacity, int reportsAfterCopy)
    {
        var options = new CoreOptions { JournalCapacity = capacity, JournalRetentionFloor = 2 };
        await using var old = Manager(options);
        old.Vms.CreateVm(Alice, new CreateVmRequest { VmId = "copied", VmType = VmType.SwProtected, VcpuCount = 1 });
        await RunReportsAsync(old, 3);
        var copiedThrough = old.Vms.GetVm(Alice, "copied").LastEventSequence;
        var copy = old.CopyJournalsForHandoff();
        if (reportsAfterCopy > 0)
        {
            await RunReportsAsync(old, reportsAfterCopy);
        }

        var (state, _) = old.FreezeForHandoff(TimeSpan.FromSeconds(30), copied: copy);
        await using var next = Manager(options);
        next.AdoptHandoff(state, copied: CopiedJournals.Read(copy.Serialized));

        var last = old.Vms.GetVm(Alice, "copied").LastEventSequence;
        var oldest = capacity >= (int)last ? 1UL : last - (ulong)capacity + 1;
        var before = await Until(old.Events.WatchEvents(Alice, "copied", oldest, cancellationToken: Ct), e => e[^1].Sequence == last);
        var after = await Until(next.Events.WatchEvents(Alice, "copied", oldest, cancellationToken: Ct), e => e[^1].Sequence == last);
        Assert.Equal(before.Select(e => (e.Sequence, e.Payload)), after.Select(e => (e.Sequence, e.Payload)));
        Assert.Equal(last, next.Vms.GetVm(Alice, "copied").LastEventSequence);

        // The frozen state carried only what the copy did not, or everything the old journal held when it had
        // compacted past the copy (the copy is then left out).
        var carried = Encoding.UTF8.GetString(state).Split("\"Events\":[", StringSplitOptions.None)[1].Split(']')[0];
        var held = carried.Length == 0 ? 0 : carried.Split(',').Length;
        var compactedPastCopy = oldest > copiedThrough + 1;
        Assert.Equal(compactedPastCopy ? (int)(last - oldest + 1) : (int)(last - copiedThrough), held);
        Assert.Equal(capacity == 4, compactedPastCopy);
    }

    // A program of n reports, run to its halt: n report events and the vCPU's state changes (running, halted).
    private static async Task RunReportsAsync(VmManager manager, int n)
    {
        manager.Vcpus.LoadGuestProgram(Alice, "copied", 0, Program([.. Enumerable.Range(1, n).Select(i => (GuestStep)new GuestStep.Report((uint)i)), new GuestStep.Halt()]));
        manager.Vcpus.StartVcpu(Alice, "copied", 0);
        // Polled, not watched: a journal of 4 events may compact the start of a watch before it reads.
        while (manager.Vcpus.GetVcpu(Alice, "copied", 0).State != VcpuState.Halted)
        {
            await Task.Delay(1, Ct);
        }
    }
}
