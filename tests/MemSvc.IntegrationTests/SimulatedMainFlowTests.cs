using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using MemSvc.Contracts.V1;
using MemSvc.IntegrationTests.Infrastructure;
using static MemSvc.IntegrationTests.Infrastructure.MemSvcClients;

namespace MemSvc.IntegrationTests;

/// <summary>
/// The main flow of an orchestrator, against the container over TCP: an sw-protected VM on the simulated
/// backend whose two vCPUs touch memory against its attributes and ask for a conversion, while a remote
/// watcher resolves every fault by converting.
/// </summary>
[Collection(DockerCollection.Name)]
public sealed class SimulatedMainFlowTests(DockerFixture docker)
{
    private const string VmId = "flow";
    private const string Vm = "vms/" + VmId;
    private const ulong KvmMemoryExitFlagPrivate = 1UL << 3;

    // Guest-physical layout: a 64 MiB guest_memfd behind two 32 MiB slots, the first 16 MiB private.
    private const ulong SharedPageWrittenPrivately = 20 * MiB;
    private const ulong PrivatePageWrittenShared = 4 * MiB;
    private const ulong RequestedRange = 40 * MiB;
    private const ulong RequestedPages = 16;

    [Fact(Timeout = 300_000)]
    public async Task Orchestrator_resolves_faults_and_conversion_requests_of_two_vcpus()
    {
        docker.SkipIfUnavailable();
        await using var memsvc = await MemSvcContainer.StartAsync(docker.Image);
        var api = new MemSvcClients(memsvc.Channel);
        var ct = TestContext.Current.CancellationToken;

        var vm = (await api.Vms.CreateVmAsync(new CreateVmRequest
        {
            VmId = VmId,
            Backend = Backend.Simulated,
            VmType = VmType.SwProtected,
            VcpuCount = 2,
            FaultPolicy = FaultPolicy.Orchestrator,
            ResolutionTimeout = Duration.FromTimeSpan(TimeSpan.FromMinutes(2)),
            TimeoutFallback = FaultAction.Fail,
        }, cancellationToken: ct)).Vm;
        Assert.Equal(Vm, vm.Name);
        Assert.Equal(Backend.Simulated, vm.Backend);

        var gmem = (await api.Memory.CreateGuestMemfdAsync(
            new CreateGuestMemfdRequest { Parent = Vm, Size = 64 * MiB }, cancellationToken: ct)).GuestMemfd;
        for (uint slot = 0; slot < 2; slot++)
        {
            var region = new SetMemoryRegionRequest
            {
                Parent = Vm,
                Slot = slot,
                Gpa = slot * 32 * MiB,
                Size = 32 * MiB,
                GuestMemfd = gmem.Name,
                GuestMemfdOffset = slot * 32 * MiB,
                SharedBacking = SharedBacking.Anonymous,
            };
            region.Flags.Add(MemoryRegionFlag.GuestMemfd);
            await api.Memory.SetMemoryRegionAsync(region, cancellationToken: ct);
        }

        var makePrivate = new SetMemoryAttributesRequest { Vm = Vm, Gpa = 0, Size = 16 * MiB };
        makePrivate.Attributes.Add(MemoryAttribute.Private);
        await api.Memory.SetMemoryAttributesAsync(makePrivate, cancellationToken: ct);

        // The watcher is in place before any vCPU runs, from the first sequence.
        await using var watcher = new EventStream(api.Events, Vm, startSequence: 1);

        await api.Vcpus.LoadGuestProgramAsync(new LoadGuestProgramRequest
        {
            Name = Vm + "/vcpus/0",
            Program = Program(
                Write(SharedPageWrittenPrivately, Page, 0xA1, AccessIntent.Private),
                Check(SharedPageWrittenPrivately, Page, 0xA1, AccessIntent.Private),
                Report(0xA1),
                Halt()),
        }, cancellationToken: ct);
        await api.Vcpus.LoadGuestProgramAsync(new LoadGuestProgramRequest
        {
            Name = Vm + "/vcpus/1",
            Program = Program(
                Write(PrivatePageWrittenShared, Page, 0xB2, AccessIntent.Shared),
                Check(PrivatePageWrittenShared, Page, 0xB2, AccessIntent.Shared),
                MapGpaRange(RequestedRange, RequestedPages, toPrivate: true),
                Write(RequestedRange, RequestedPages * Page, 0xC3, AccessIntent.Private),
                Check(RequestedRange, RequestedPages * Page, 0xC3, AccessIntent.Private),
                Report(0xB2),
                Halt()),
        }, cancellationToken: ct);
        await api.Vcpus.StartVcpuAsync(new StartVcpuRequest { Name = Vm + "/vcpus/0" }, cancellationToken: ct);
        await api.Vcpus.StartVcpuAsync(new StartVcpuRequest { Name = Vm + "/vcpus/1" }, cancellationToken: ct);

        var seen = new List<Event>();
        var halted = new HashSet<uint>();
        while (halted.Count < 2)
        {
            var e = await watcher.NextAsync(TimeSpan.FromSeconds(30), "both vCPUs to halt");
            seen.Add(e);
            switch (e.PayloadCase)
            {
                case Event.PayloadOneofCase.MemoryFault:
                    await Resolve(api, e.MemoryFault.FaultId, ct);
                    break;
                case Event.PayloadOneofCase.ConversionRequested:
                    await Resolve(api, e.ConversionRequested.FaultId, ct);
                    break;
                case Event.PayloadOneofCase.VcpuStateChanged when e.VcpuStateChanged.State == VcpuState.Halted:
                    halted.Add(e.VcpuStateChanged.Vcpu);
                    break;
                case Event.PayloadOneofCase.VcpuStateChanged
                    when e.VcpuStateChanged.State is VcpuState.Failed or VcpuState.Shutdown:
                    Assert.Fail($"vCPU {e.VcpuStateChanged.Vcpu} ended {e.VcpuStateChanged.State}: {e.VcpuStateChanged.Reason}\n{string.Join('\n', seen)}");
                    break;
            }
        }

        Log.Write($"watcher saw {seen.Count} events until both vCPUs halted");
        Assert.Equal(Enumerable.Range(1, seen.Count).Select(i => (ulong)i), seen.Select(e => e.Sequence));

        // Exact faults: a private write to a shared page (flags carry KVM_MEMORY_EXIT_FLAG_PRIVATE), a shared write
        // to a private page (flags 0), and the guest's KVM_HC_MAP_GPA_RANGE.
        var faults = seen.Where(e => e.PayloadCase == Event.PayloadOneofCase.MemoryFault).Select(e => e.MemoryFault)
            .OrderBy(f => f.Vcpu).ToList();
        Assert.Equal(2, faults.Count);
        Assert.Equal((0u, SharedPageWrittenPrivately, Page, true, KvmMemoryExitFlagPrivate),
            (faults[0].Vcpu, faults[0].Gpa, faults[0].Size, faults[0].Private, faults[0].Flags));
        Assert.Equal((1u, PrivatePageWrittenShared, Page, false, 0UL),
            (faults[1].Vcpu, faults[1].Gpa, faults[1].Size, faults[1].Private, faults[1].Flags));

        var request = Assert.Single(seen, e => e.PayloadCase == Event.PayloadOneofCase.ConversionRequested).ConversionRequested;
        Assert.Equal((1u, RequestedRange, RequestedPages * Page, true), (request.Vcpu, request.Gpa, request.Size, request.ToPrivate));

        var faultIds = faults.Select(f => f.FaultId).Append(request.FaultId).Order().ToList();
        var applied = seen.Where(e => e.PayloadCase == Event.PayloadOneofCase.ConversionApplied).Select(e => e.ConversionApplied).ToList();
        Assert.Equal(faultIds, applied.Select(a => a.FaultId).Order());
        Assert.All(applied, a => Assert.Equal(ConversionInitiator.Orchestrator, a.Initiator));
        var resolved = seen.Where(e => e.PayloadCase == Event.PayloadOneofCase.FaultResolved).Select(e => e.FaultResolved).ToList();
        Assert.Equal(faultIds, resolved.Select(r => r.FaultId).Order());
        Assert.All(resolved, r => Assert.Equal((FaultAction.Convert, false), (r.Action, r.ByFallback)));

        var reports = seen.Where(e => e.PayloadCase == Event.PayloadOneofCase.GuestReport)
            .Select(e => (e.GuestReport.Vcpu, e.GuestReport.Value)).Order().ToList();
        Assert.Equal([(0u, 0xA1u), (1u, 0xB2u)], reports);

        foreach (var index in new[] { 0, 1 })
        {
            var vcpu = (await api.Vcpus.GetVcpuAsync(new GetVcpuRequest { Name = $"{Vm}/vcpus/{index}" }, cancellationToken: ct)).Vcpu;
            Assert.Equal(VcpuState.Halted, vcpu.State);
            Assert.Equal(VcpuExitReason.Hlt, vcpu.LastExit);
        }

        // The host sees what the guest wrote to memory that is shared now, and never what it wrote privately.
        var shared = await api.Memory.ReadGuestMemoryAsync(
            new ReadGuestMemoryRequest { Vm = Vm, Gpa = PrivatePageWrittenShared, Size = Page }, cancellationToken: ct);
        Assert.All(shared.Data.ToByteArray(), b => Assert.Equal(0xB2, b));
        await AssertHostCannotSee(api, SharedPageWrittenPrivately, 0xA1, ct);
        await AssertHostCannotSee(api, RequestedRange, 0xC3, ct);

        var attributes = await api.Memory.GetMemoryAttributesAsync(
            new GetMemoryAttributesRequest { Vm = Vm, Gpa = 0, Size = 64 * MiB }, cancellationToken: ct);
        Assert.Equal(
        [
            (0UL, PrivatePageWrittenShared, true),
            (PrivatePageWrittenShared, Page, false),
            (PrivatePageWrittenShared + Page, (16 * MiB) - PrivatePageWrittenShared - Page, true),
            (16 * MiB, SharedPageWrittenPrivately - (16 * MiB), false),
            (SharedPageWrittenPrivately, Page, true),
            (SharedPageWrittenPrivately + Page, RequestedRange - SharedPageWrittenPrivately - Page, false),
            (RequestedRange, RequestedPages * Page, true),
            (RequestedRange + (RequestedPages * Page), (64 * MiB) - RequestedRange - (RequestedPages * Page), false),
        ],
            attributes.Ranges.Select(r => (r.Gpa, r.Size, r.Attributes.Contains(MemoryAttribute.Private))));

        // A second watcher that starts at sequence 1 after the fact reads the very same journal.
        await using var late = new EventStream(api.Events, Vm, startSequence: 1);
        var replay = await late.TakeAsync(seen.Count, TimeSpan.FromSeconds(10), "the replay from sequence 1");
        Assert.Equal(seen, replay);
        Assert.Equal(0, watcher.Reconnects);
    }

    private static async Task Resolve(MemSvcClients api, ulong faultId, CancellationToken ct)
    {
        var answer = await api.Events.ResolveFaultAsync(
            new ResolveFaultRequest { Vm = Vm, FaultId = faultId, Action = FaultAction.Convert }, cancellationToken: ct);
        Assert.Equal((faultId, FaultAction.Convert), (answer.FaultId, answer.Action));
    }

    /// <summary>Private memory is the guest's alone: the host read is refused, or reads something else.</summary>
    private static async Task AssertHostCannotSee(MemSvcClients api, ulong gpa, byte pattern, CancellationToken ct)
    {
        try
        {
            var read = await api.Memory.ReadGuestMemoryAsync(
                new ReadGuestMemoryRequest { Vm = Vm, Gpa = gpa, Size = Page }, cancellationToken: ct);
            Assert.NotEqual(Enumerable.Repeat(pattern, (int)Page), read.Data.ToByteArray());
        }
        catch (RpcException e) when (e.StatusCode is StatusCode.FailedPrecondition or StatusCode.PermissionDenied or StatusCode.InvalidArgument)
        {
            Log.Write($"reading private memory at 0x{gpa:x} is refused: {e.StatusCode} {e.Status.Detail}");
        }
    }
}
