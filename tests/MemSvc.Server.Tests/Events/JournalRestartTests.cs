using Grpc.Core;
using MemSvc.Contracts.V1;
using MemSvc.Server.Tests.Infrastructure;
using static MemSvc.Server.Tests.Infrastructure.DoomedServerLoad;

namespace MemSvc.Server.Tests.Events;

/// <summary>
/// Issue 16's unplanned exits, with the real server in a child process on a journal directory: killed (SIGKILL) at
/// several points, quiet and in the middle of appends under load, the next server reports every VM the killed one
/// had with exactly one VM_LOST at the sequence after its last, and every event a watcher saw before the kill is
/// the same event at the same sequence after it: no sequence is handed out twice.
/// </summary>
public sealed class JournalRestartTests : IDisposable
{
    private readonly DirectoryInfo _directory = Directory.CreateTempSubdirectory("memsvc-restart-");

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private (string Key, string Value)[] Settings => [("MemSvc:Journal:Directory", Path.Combine(_directory.FullName, "journal"))];

    [Fact]
    public async Task Killed_at_several_points_every_lost_VM_ends_with_one_VM_LOST_after_its_last_event_and_no_sequence_seen_is_reused()
    {
        var seed = Environment.TickCount;
        var random = new Random(seed);
        var lost = new List<WatchedVm>();
        string[] points = ["no event yet", "quiet, watchers caught up", "under vCPU load", "under vCPU load", "under ConvertMemory load"];
        foreach (var point in points)
        {
            await using var server = await ChildServer.StartInAsync(_directory.FullName, Settings);
            var clients = new Clients(server.SocketChannel());
            await CheckLostAsync(clients, lost, seed);

            // "same" is created again in every round: each its own incarnation, whose journal the next ones keep apart.
            var vms = new List<WatchedVm>();
            foreach (var name in new[] { $"r{lost.Count}-a", $"r{lost.Count}-b", "same" })
            {
                var vm = await Scenario.VmWithMemoryAsync(clients, name, vcpus: 2);
                vms.Add(new WatchedVm(vm.Name, vm.Uid, point, []));
            }

            using var stop = CancellationTokenSource.CreateLinkedTokenSource(Ct);
            var watchers = vms.Select(vm => Task.Run(() => WatchUntilKilledAsync(clients, vm, stop.Token), CancellationToken.None)).ToList();
            var load = new List<Task>();
            if (point == "quiet, watchers caught up")
            {
                foreach (var vm in vms)
                {
                    await ConvertAsync(clients, vm.Name, 20, CancellationToken.None);
                }

                await WaitUntilAsync(() => vms.All(vm => vm.Count == 20), seed);
            }
            else if (point == "under vCPU load")
            {
                // Events appended by vCPU threads only (each page faults, is converted, resumes): nothing but the
                // writer thread and the watchers writes them, so this is where a watcher could outrun the file.
                foreach (var vm in vms)
                {
                    await StartFaultingAsync(clients, vm.Name);
                }

                await WaitUntilAsync(() => vms.All(vm => vm.Count > 0), seed);
                await Task.Delay(random.Next(20, 400), Ct);
            }
            else if (point == "under ConvertMemory load")
            {
                load.AddRange(vms.SelectMany(vm => new[] { vm, vm }).Select(vm => Task.Run(() => ConvertAsync(clients, vm.Name, int.MaxValue, stop.Token), CancellationToken.None)));
                await WaitUntilAsync(() => vms.All(vm => vm.Count > 0), seed);
                await Task.Delay(random.Next(20, 400), Ct);
            }

            await server.KillAsync();
            await stop.CancelAsync();
            await Task.WhenAll(watchers.Concat(load));
            lost.AddRange(vms);
        }

        await using (var last = await ChildServer.StartInAsync(_directory.FullName, Settings))
        {
            await CheckLostAsync(new Clients(last.SocketChannel()), lost, seed);
        }

        Assert.Equal(15, lost.Count);
        Assert.All(lost.Where(vm => vm.Point == "quiet, watchers caught up"), vm => Assert.Equal(20, vm.Count));
        Assert.All(lost.Where(vm => vm.Point.StartsWith("under", StringComparison.Ordinal)), vm => Assert.True(vm.Count > 0, $"seed {seed}: {vm.Name} saw no event before the kill"));
    }

    [Fact]
    public async Task Killed_while_its_64_KiB_files_compact_under_load_the_files_keep_their_bound_and_their_newest_events_end_with_VM_LOST()
    {
        const long bound = 64 << 10;
        var seed = Environment.TickCount;
        var settings = Settings.Append(("MemSvc:Journal:MaxFileBytes", bound.ToString(System.Globalization.CultureInfo.InvariantCulture))).ToArray();
        var vms = new List<WatchedVm>();
        await using (var server = await ChildServer.StartInAsync(_directory.FullName, settings))
        {
            var clients = new Clients(server.SocketChannel());
            foreach (var name in new[] { "c-a", "c-b" })
            {
                var vm = await Scenario.VmWithMemoryAsync(clients, name);
                vms.Add(new WatchedVm(vm.Name, vm.Uid, "compacting", []));
            }

            using var stop = CancellationTokenSource.CreateLinkedTokenSource(Ct);
            var watchers = vms.Select(vm => Task.Run(() => WatchUntilKilledAsync(clients, vm, stop.Token), CancellationToken.None)).ToList();
            var load = vms.SelectMany(vm => new[] { vm, vm }).Select(vm => Task.Run(() => ConvertAsync(clients, vm.Name, int.MaxValue, stop.Token), CancellationToken.None)).ToList();

            // A CONVERSION_APPLIED record is 67 bytes: 1,500 events have compacted each file at least twice.
            await WaitUntilAsync(() => vms.All(vm => vm.Count >= 1500), seed);
            await Task.Delay(new Random(seed).Next(0, 200), Ct);
            await server.KillAsync();
            await stop.CancelAsync();
            await Task.WhenAll(watchers.Concat(load));
        }

        var sizes = Directory.GetFiles(Path.Combine(_directory.FullName, "journal"), "*.journal").Select(f => new FileInfo(f).Length).ToList();
        await using var restarted = await ChildServer.StartInAsync(_directory.FullName, settings);
        var next = new Clients(restarted.SocketChannel());
        foreach (var vm in vms)
        {
            var compacted = await RpcAssert.FailsAsync(
                () => ReadToEndAsync(next, new WatchEventsRequest { Vm = vm.Name, VmUid = vm.Uid, StartSequence = 1 }), StatusCode.OutOfRange, "SEQUENCE_COMPACTED", "start_sequence");
            var oldest = ulong.Parse(compacted.Info.Metadata["oldest_sequence"], System.Globalization.CultureInfo.InvariantCulture);
            var kept = (await ReadToEndAsync(next, new WatchEventsRequest { Vm = vm.Name, VmUid = vm.Uid, StartSequence = oldest })).Select(i => i.Event).ToList();
            var because = $"seed {seed}, {vm.Name}: {vm.Count} seen, {oldest}..{kept[^1].Sequence} kept";

            Assert.True(oldest > 1 && oldest <= (ulong)vm.Count, because);
            Assert.Equal(Enumerable.Range((int)oldest, kept.Count).Select(s => (ulong)s), kept.Select(e => e.Sequence));
            Assert.Equal(vm.Seen.Skip((int)oldest - 1), kept.Take(vm.Count - (int)oldest + 1));
            Assert.Equal([Event.PayloadOneofCase.VmLost], kept.Where(e => e.PayloadCase == Event.PayloadOneofCase.VmLost).Select(e => e.PayloadCase));
            Assert.Equal(Event.PayloadOneofCase.VmLost, kept[^1].PayloadCase);
        }

        Assert.Equal(2, sizes.Count);
        Assert.All(sizes, size => Assert.InRange(size, bound / 4, bound));
    }

    [Fact]
    public async Task A_SIGTERM_stop_keeps_the_journals_and_the_next_server_reports_the_VMs_lost_by_a_stop_until_DeleteVm()
    {
        string instance;
        Vm vm;
        await using (var first = await ChildServer.StartInAsync(_directory.FullName, Settings))
        {
            var clients = new Clients(first.SocketChannel());
            instance = (await clients.Host.GetHostInfoAsync(new(), cancellationToken: Ct)).InstanceId;
            vm = await Scenario.VmWithMemoryAsync(clients, "kept");
            await ConvertAsync(clients, vm.Name, 3, Ct);
            Assert.Equal(0, await first.TerminateAsync());
        }

        await using var second = await ChildServer.StartInAsync(_directory.FullName, Settings);
        var next = new Clients(second.SocketChannel());
        var getVm = await RpcAssert.FailsAsync(() => next.Vms.GetVmAsync(new() { Name = vm.Name }, cancellationToken: Ct).ResponseAsync, StatusCode.NotFound, "VM_LOST");
        var listed = (await next.Vms.ListVmsAsync(new(), cancellationToken: Ct)).Vms;
        var items = await ReadToEndAsync(next, new WatchEventsRequest { Vm = vm.Name, VmUid = vm.Uid, StartSequence = 3, ProgressMessages = true });
        var again = await Scenario.VmWithMemoryAsync(next, "kept");
        await next.Vms.DeleteVmAsync(new() { Name = vm.Name }, cancellationToken: Ct);
        await next.Vms.DeleteVmAsync(new() { Name = vm.Name }, cancellationToken: Ct);
        await RpcAssert.FailsAsync(() => next.Vms.GetVmAsync(new() { Name = vm.Name }, cancellationToken: Ct).ResponseAsync, StatusCode.NotFound, "VM_NOT_FOUND");

        Assert.Equal((vm.Uid, "4"), (getVm.Info.Metadata["vm_uid"], getVm.Info.Metadata["last_sequence"]));
        Assert.Empty(listed);
        Assert.Equal(3, items.Count);
        Assert.Equal((3UL, Event.PayloadOneofCase.ConversionApplied), (items[0].Event.Sequence, items[0].Event.PayloadCase));
        Assert.Equal((4UL, instance), (items[1].Event.Sequence, items[1].Event.VmLost.InstanceId));
        Assert.StartsWith($"daemon restarted: instance {instance} stopped at ", items[1].Event.VmLost.Reason, StringComparison.Ordinal);
        Assert.Equal((vm.Uid, VmEndReason.Lost, 5UL), (items[2].VmEnded.VmUid, items[2].VmEnded.Reason, items[2].VmEnded.NextSequence));
        Assert.NotEqual(vm.Uid, again.Uid);
        Assert.Empty(Directory.GetFiles(Path.Combine(_directory.FullName, "journal"), "*.journal"));
    }

    [Fact]
    public async Task A_second_server_on_a_journal_directory_in_use_refuses_to_start_and_the_first_serves_on()
    {
        await using var first = await ChildServer.StartInAsync(_directory.FullName, Settings);
        var elsewhere = Directory.CreateDirectory(Path.Combine(_directory.FullName, "second"));

        var (exitCode, output) = await ChildServer.RunToExitAsync(elsewhere.FullName, Settings);
        var vm = await Scenario.VmWithMemoryAsync(new Clients(first.SocketChannel()), "serves");

        Assert.Equal(78, exitCode);
        Assert.Contains($"memsvc: cannot start: MemSvc:Journal:Directory '{Settings[0].Value}' cannot be used: another MemSvc process uses the journal directory {Settings[0].Value}", output, StringComparison.Ordinal);
        Assert.StartsWith("vms/serves", vm.Name, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_journal_file_of_an_unknown_version_is_logged_and_left_as_it_is_and_the_server_serves()
    {
        var journal = Directory.CreateDirectory(Path.Combine(_directory.FullName, "journal"));
        var path = Path.Combine(journal.FullName, "6f1c2a4e-3b5d-4c6e-8f70-123456789abc.journal");
        byte[] written = [.. "MSVJRNL\n"u8, 2, 0, 0, 0, 42];
        await File.WriteAllBytesAsync(path, written, Ct);

        await using var server = await ChildServer.StartInAsync(_directory.FullName, Settings);
        var clients = new Clients(server.SocketChannel());
        var vm = await Scenario.VmWithMemoryAsync(clients, "serves");

        Assert.Contains($"Journal file {path} is not read: its format version is 2; this MemSvc reads version 1 only.", server.Output, StringComparison.Ordinal);
        Assert.Equal(written, await File.ReadAllBytesAsync(path, Ct));
        Assert.Equal(vm.Uid, (await clients.Vms.GetVmAsync(new() { Name = vm.Name }, cancellationToken: Ct)).Vm.Uid);
    }

    public void Dispose() => _directory.Delete(recursive: true);

    // Each lost VM's journal, from 1: the events its watcher saw, at the same sequences, then nothing but one VM_LOST
    // at the sequence after the last event; and a watch from the sequence after the last one seen (the position a
    // client kept) continues with the rest and that VM_LOST.
    private static async Task CheckLostAsync(Clients clients, List<WatchedVm> lost, int seed)
    {
        foreach (var vm in lost)
        {
            var all = (await ReadToEndAsync(clients, new WatchEventsRequest { Vm = vm.Name, VmUid = vm.Uid, StartSequence = 1 })).Select(i => i.Event).ToList();
            var resumed = (await ReadToEndAsync(clients, new WatchEventsRequest { Vm = vm.Name, VmUid = vm.Uid, StartSequence = (ulong)vm.Count + 1 })).Select(i => i.Event).ToList();
            var because = $"seed {seed}, {vm.Name} {vm.Uid} killed {vm.Point}, {vm.Count} events seen";

            Assert.True(all.Count > vm.Count, because);
            Assert.Equal(Enumerable.Range(1, all.Count).Select(s => (ulong)s), all.Select(e => e.Sequence));
            Assert.Equal(vm.Seen, all.Take(vm.Count));
            Assert.Equal([Event.PayloadOneofCase.VmLost], all.Where(e => e.PayloadCase == Event.PayloadOneofCase.VmLost).Select(e => e.PayloadCase));
            Assert.Equal(Event.PayloadOneofCase.VmLost, all[^1].PayloadCase);
            Assert.Equal(all.Skip(vm.Count), resumed);
            Assert.All(all, e => Assert.Equal(vm.Uid, e.VmUid));
        }
    }
}
