using Grpc.Net.Client;
using MemSvc.Contracts.V1;
using MemSvc.Hypervisor.Kvm;
using MemSvc.LoadDriver.Hosting;
using MemSvc.LoadDriver.Measure;
using MemSvc.LoadDriver.Report;

namespace MemSvc.LoadDriver.Suites;

/// <summary>
/// The fault path on real KVM: a guest's write to a guest_memfd-only slot whose backing was revoked exits
/// KVM_EXIT_MEMORY_FAULT (the exit the seed patch adds), the server streams it, the driver rebinds the slot (as the
/// kernel requires before the access can succeed) and answers ResolveFault(RETRY), and the vCPU runs again. The row
/// is the fault's delivery to the watcher plus ResolveFault-to-running, leaving out the rebinding (the orchestrator's
/// own work), against the C probe's KVM_RUN round trip plus two bare unary round trips in the same run.
/// </summary>
internal sealed class KvmFaultSuite(DriverOptions options, double? probeExitsPerSecond)
{
    private const string Group = "kvm";
    private const ulong MiB = 1UL << 20;
    private const ulong SlotGpa = 8 * MiB;
    private const int Warmup = 5;

    public async Task<List<Row>> RunAsync()
    {
        const string what = "remote resolution of a real KVM_EXIT_MEMORY_FAULT p50";
        if (!KvmHypervisor.IsAvailable(out var reason))
        {
            return [Row.Skipped(Group, what, $"/dev/kvm absent ({reason})", "≤ 1.5x")];
        }

        await using var server = await BenchServer.StartAsync(journalRetention: 65_536, ("MemSvc:OpenKvm", "true")).ConfigureAwait(false);
        using var channel = server.Channel(options.Transport);
        var host = await new HostService.HostServiceClient(channel).GetHostInfoAsync(new GetHostInfoRequest());
        var kvm = host.Backends.Single(b => b.Backend == Backend.Kvm);
        if (!(kvm.GuestMemfd && kvm.GuestMemfdFlags.Contains(GuestMemfdFlag.Mmap) && kvm.GuestMemfdFlags.Contains(GuestMemfdFlag.InitShared) && kvm.MemoryFaultInfo))
        {
            return [Row.Skipped(Group, what, $"needs guest_memfd with MMAP|INIT_SHARED and memory-fault info; this host: guest_memfd={kvm.GuestMemfd}, flags=[{string.Join(",", kvm.GuestMemfdFlags)}], memory_fault_info={kvm.MemoryFaultInfo}", "≤ 1.5x")];
        }

        var measured = await MeasureAsync(channel).ConfigureAwait(false);
        var bare = new BareRoundTrips(channel, measured.EventBytes);
        await bare.RunAsync(Warmup, record: false).ConfigureAwait(false);
        await bare.RunAsync(options.KvmFaultSamples, record: true).ConfigureAwait(false);
        var pairs = bare.Pairs;
        if (probeExitsPerSecond is not { } rate)
        {
            return [new Row(Group, what, Format.Micros(measured.Resolve.Percentile(50)), "C probe: did not build or run (see stderr)", "-", "≤ 1.5x", null)];
        }

        var exitRoundTrip = 1e6 / rate;
        var note = Machine.IsEmulatedCpu ? "; emulated CPU, not judged" : "";
        return
        [
            Compare(what, measured.Resolve.Percentile(50), exitRoundTrip + pairs.Percentile(50), 1.5, note),
            Compare("remote resolution of a real KVM_EXIT_MEMORY_FAULT p99", measured.Resolve.Percentile(99), exitRoundTrip + pairs.Percentile(99), 3, note),
            new Row(Group, "remote resolution p50, split", $"fault→watcher {Format.Micros(measured.Deliver.Percentile(50))}, ResolveFault→running {Format.Micros(measured.Resume.Percentile(50))}", $"KVM_RUN round trip {Format.Micros(exitRoundTrip)}", "-", "-", null),
        ];
    }

    private static Row Compare(string what, double figure, double baseline, double limit, string note)
    {
        var ratio = figure / baseline;
        return new Row(
            Group, what, Format.Micros(figure), $"{Format.Micros(baseline)} (C probe's KVM_RUN round trip + 2 bare unary RTTs{note})", Format.Ratio(ratio), $"≤ {limit}x",
            note.Length == 0 ? ratio <= limit : null, Format.AddedMicros(figure - baseline));
    }

    private async Task<(Samples Resolve, Samples Deliver, Samples Resume, int EventBytes)> MeasureAsync(GrpcChannel channel)
    {
        var vms = new VmService.VmServiceClient(channel);
        var memory = new GuestMemoryService.GuestMemoryServiceClient(channel);
        var vcpus = new VcpuService.VcpuServiceClient(channel);
        var events = new EventService.EventServiceClient(channel);
        var vm = (await vms.CreateVmAsync(new CreateVmRequest
        {
            VmId = "bench-kvm-fault",
            Backend = Backend.Kvm,
            VcpuCount = 1,
            FaultPolicy = FaultPolicy.Orchestrator,
            ResolutionTimeout = Google.Protobuf.WellKnownTypes.Duration.FromTimeSpan(TimeSpan.FromMinutes(5)),
        })).Vm;
        var region = vm.Name + "/memoryRegions/3";
        var vcpu = vm.Name + "/vcpus/0";
        await BindSlotAsync(memory, vm.Name);
        var next = (await vms.GetVmAsync(new GetVmRequest { Name = vm.Name })).Vm.LastEventSequence + 1;
        using var stream = events.WatchEvents(new WatchEventsRequest { Vm = vm.Name, StartSequence = next, Filter = new EventFilter { Kinds = { EventKind.MemoryFault, EventKind.VcpuStateChanged } } });

        var (resolve, deliver, resume) = (new Samples(), new Samples(), new Samples());
        var eventBytes = 0;
        for (var i = 0; i < options.KvmFaultSamples + Warmup; i++)
        {
            // The next access to the slot exits KVM_EXIT_MEMORY_FAULT until the slot is bound again.
            await memory.RevokeMemoryRegionBackingAsync(new RevokeMemoryRegionBackingRequest { Name = region });
            var program = new GuestProgram();
            program.Steps.Add(new GuestStep { WritePattern = new WritePatternStep { Gpa = SlotGpa + 0x100, Length = 2, Pattern = (uint)i & 0xff, Intent = AccessIntent.Shared } });
            program.Steps.Add(new GuestStep { Halt = new HaltStep() });
            await vcpus.LoadGuestProgramAsync(new LoadGuestProgramRequest { Name = vcpu, Program = program });
            await vcpus.StartVcpuAsync(new StartVcpuRequest { Name = vcpu });

            var fault = await NextAsync(stream.ResponseStream, e => e.MemoryFault is not null).ConfigureAwait(false);
            var delivered = (DateTime.UtcNow - fault.Event.Time.ToDateTime()).TotalMicroseconds;
            eventBytes = fault.CalculateSize();

            // Revoking closed the slot's guest_memfd; the slot is bound again to a fresh one.
            await memory.DeleteMemoryRegionAsync(new DeleteMemoryRegionRequest { Name = region });
            await BindSlotAsync(memory, vm.Name);
            var sent = DateTime.UtcNow;
            await events.ResolveFaultAsync(new ResolveFaultRequest { Vm = vm.Name, FaultId = fault.Event.MemoryFault.FaultId, Action = FaultAction.Retry });
            var running = await NextAsync(stream.ResponseStream, e => e.VcpuStateChanged is { State: VcpuState.Running }).ConfigureAwait(false);
            var resumed = (running.Event.Time.ToDateTime() - sent).TotalMicroseconds;
            await NextAsync(stream.ResponseStream, e => e.VcpuStateChanged is { State: VcpuState.Halted }).ConfigureAwait(false);
            if (i >= Warmup)
            {
                deliver.Add(delivered);
                resume.Add(resumed);
                resolve.Add(delivered + resumed);
            }

            if (i % 50 == 0)
            {
                Progress.Say($"kvm fault: {i}/{options.KvmFaultSamples + Warmup} real memory faults resolved");
            }
        }

        await vms.DeleteVmAsync(new DeleteVmRequest { Name = vm.Name });
        return (resolve, deliver, resume, eventBytes);
    }

    // Slot 3 = [8 MiB, 10 MiB) served only by a fresh MMAP|INIT_SHARED guest_memfd, which is its shared side too.
    private static async Task BindSlotAsync(GuestMemoryService.GuestMemoryServiceClient memory, string vm)
    {
        var memfd = (await memory.CreateGuestMemfdAsync(new CreateGuestMemfdRequest { Parent = vm, Size = 2 * MiB, Flags = { GuestMemfdFlag.Mmap, GuestMemfdFlag.InitShared } })).GuestMemfd;
        await memory.SetMemoryRegionAsync(new SetMemoryRegionRequest
        {
            Parent = vm,
            Slot = 3,
            Gpa = SlotGpa,
            Size = 2 * MiB,
            Flags = { MemoryRegionFlag.GuestMemfd },
            GuestMemfd = memfd.Name,
            SharedBacking = SharedBacking.GuestMemfd,
        });
    }

    // The next event that matches; a vCPU that fails or halts first ends the row as an error with its reason.
    private static async Task<WatchEventsResponse> NextAsync(Grpc.Core.IAsyncStreamReader<WatchEventsResponse> stream, Func<Event, bool> wanted)
    {
        while (await stream.MoveNext(CancellationToken.None).ConfigureAwait(false))
        {
            var evt = stream.Current.Event;
            if (evt is null)
            {
                continue;
            }

            if (wanted(evt))
            {
                return stream.Current;
            }

            if (evt.VcpuStateChanged is { State: VcpuState.Failed or VcpuState.Shutdown } ended)
            {
                throw new InvalidOperationException($"the benchmark vCPU ended {ended.State}: {ended.Reason}");
            }
        }

        throw new InvalidOperationException("the watch ended before the expected event");
    }
}
