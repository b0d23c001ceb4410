using MemSvc.Hypervisor.Memory;
using MemSvc.Hypervisor.Simulated;
using MemSvc.Hypervisor.Simulated.Handoff;
using static MemSvc.Hypervisor.Tests.Simulated.Sim;

namespace MemSvc.Hypervisor.Tests.Simulated;

/// <summary>
/// Handoff version 4: what went ahead of the freeze (programs, page stores' contents) is left out of the frozen state
/// when unchanged since, and the adopted VM is the same VM as with everything in the state.
/// </summary>
public class SentAheadTests
{
    [Fact]
    public void Contents_unchanged_since_they_were_sent_are_left_out_and_come_back_from_the_copy_while_written_ones_move_in_full()
    {
        var (vm, gmem) = VmWithSlot(VmType.SwProtected, size: 4 * M);
        vm.SetUserMemoryRegion(new MemoryRegion(2, MemoryRegionFlags.None, 16 * M, M, SharedBacking.Anonymous));
        vm.WriteSharedMemory(0x3005, [1, 2, 3]);
        vm.WriteSharedMemory((16 * M) + 7, [4, 5, 6]);
        vm.SetMemoryAttributes(M, M, MemoryAttributes.Private);
        Assert.IsType<VmExit.Halt>(RunProgram(vm, Write(M, 4 * K4, 0xab, AccessIntent.Private), new GuestStep.Halt()));

        var sent = vm.ContentsSnapshots([gmem]).ToDictionary(s => s.Key, s => s.Contents);
        Assert.Equal([SentAheadKeys.File(gmem.Inode), SentAheadKeys.Slot(0, 0), SentAheadKeys.Slot(0, 2)], sent.Keys.Order(StringComparer.Ordinal));

        // Written after the copy: slot 2's shared side. The file and slot 0's shared side are as sent.
        vm.WriteSharedMemory((16 * M) + 8, [9]);
        var state = vm.Export([gmem], new SentAhead(_ => null, key => sent.GetValueOrDefault(key)));

        var file = Assert.Single(state.Files);
        Assert.Equal((true, PageStoreState.Empty), (file.ContentsSentAhead, file.Contents));
        var mappings = state.Slots.ToDictionary(s => s.Id, s => s.OwnedMapping!);
        Assert.Equal((true, PageStoreState.Empty), (mappings[0].ContentsSentAhead, mappings[0].Anonymous));
        Assert.False(mappings[2].ContentsSentAhead);
        Assert.Single(mappings[2].Anonymous!.Pages);

        var (adopted, _, vcpus) = new SimulatedHypervisor().Adopt(state, new CameAhead(_ => null, key => sent[key].Contents));
        Assert.Equal(ReadShared(vm, 0, (int)(4 * K4)), ReadShared(adopted, 0, (int)(4 * K4)));
        Assert.Equal([4, 9, 6], ReadShared(adopted, (16 * M) + 7, 3));
        vcpus[0].LoadProgram(Program(Check(M, 4 * K4, 0xab, AccessIntent.Private), new GuestStep.Halt()));
        Assert.IsType<VmExit.Halt>(vcpus[0].Run());
    }

    [Fact]
    public void A_state_that_counts_on_contents_sent_ahead_is_refused_without_them()
    {
        var (vm, gmem) = VmWithSlot(VmType.SwProtected);
        vm.WriteSharedMemory(0x10, [1]);
        var sent = vm.ContentsSnapshots([gmem]).ToDictionary(s => s.Key, s => s.Contents);
        var state = vm.Export([gmem], new SentAhead(_ => null, key => sent.GetValueOrDefault(key)));

        Assert.Equal(Errno.EINVAL, Throws(() => new SimulatedHypervisor().Adopt(state)).Errno);
    }

    [Fact]
    public void A_snapshot_is_unchanged_until_its_store_is_written_filled_cleared_or_loaded_and_never_matches_another_store()
    {
        var store = new SparsePageStore();
        store.Write(5, [1]);
        var changes = new Action[] { () => store.Write(9, [2]), () => store.Fill(0, K4, 3), () => store.Clear(), () => store.Load(PageStoreState.Empty) };
        foreach (var change in changes)
        {
            var snapshot = store.Snapshot();
            Assert.True(store.IsUnchangedSince(snapshot));
            change();
            Assert.False(store.IsUnchangedSince(snapshot));
        }

        Assert.False(new SparsePageStore().IsUnchangedSince(store.Snapshot()));
    }

    [Fact]
    public void A_program_still_loaded_is_left_out_and_one_loaded_after_it_was_sent_moves_in_full()
    {
        var (vm, _) = VmWithSlot(VmType.SwProtected);
        var vcpu = vm.CreateSimulatedVcpu(0);
        var first = Program(new GuestStep.Report(1), new GuestStep.Halt());
        vcpu.LoadProgram(first);
        var sentAhead = new SentAhead(_ => first, _ => null);

        Assert.Equal((null, true), (vcpu.Export(sentAhead.Program(0)).Program, vcpu.Export(sentAhead.Program(0)).ProgramSentAhead));
        var adopted = new SimulatedHypervisor().Adopt(vm.Export([], sentAhead), new CameAhead(_ => first, _ => null)).Vcpus.Single();
        Assert.Equal(new VmExit.PortIo(GuestProgram.ReportPort, true, 4, 1), adopted.Run());

        // The same steps, loaded again: another program, which the next process has not seen.
        vcpu.LoadProgram(Program(new GuestStep.Report(1), new GuestStep.Halt()));
        var reloaded = vcpu.Export(sentAhead.Program(0));
        Assert.Equal((2, false), (reloaded.Program!.Count, reloaded.ProgramSentAhead));
    }
}
