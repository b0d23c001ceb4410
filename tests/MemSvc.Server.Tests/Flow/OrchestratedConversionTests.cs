using MemSvc.Contracts.V1;
using MemSvc.Server.Tests.Infrastructure;
using static MemSvc.Server.Tests.Infrastructure.Steps;

namespace MemSvc.Server.Tests.Flow;

/// <summary>
/// The whole remote flow an orchestrator drives: a sw-protected VM under the ORCHESTRATOR policy, guests that
/// touch memory against its attribute and ask for a conversion, a watcher that resolves every fault by
/// converting, and the memory state that results.
/// </summary>
public sealed class OrchestratedConversionTests
{
    // vCPU n works on its own page in each area, so the two guests never touch the same page.
    private const ulong SharedArea = 16 * MiB;   // shared at the start: a private write faults
    private const ulong PrivateArea = 0;         // private at the start: a shared write faults
    private const ulong RequestArea = 17 * MiB;  // shared; the guest asks for it to become private

    [Fact]
    public async Task Faults_and_conversion_requests_reach_the_watcher_in_order_and_converting_lets_both_guests_finish()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var server = await RunningServer.StartAsync();
        var clients = new Clients(server.LoopbackChannel());
        var vm = await Scenario.VmWithMemoryAsync(clients, "flow", FaultPolicy.Orchestrator, vcpus: 2);
        await clients.Memory.SetMemoryAttributesAsync(new SetMemoryAttributesRequest { Vm = vm.Name, Gpa = 0, Size = 16 * MiB, Attributes = { MemoryAttribute.Private } }, cancellationToken: ct);

        for (uint vcpu = 0; vcpu < 2; vcpu++)
        {
            var page = vcpu * Page;
            var program = Program(
                Write(SharedArea + page, (byte)(0xA0 + vcpu), AccessIntent.Private),
                Write(PrivateArea + page, (byte)(0xB0 + vcpu), AccessIntent.Shared),
                Map(RequestArea + page, 1, toPrivate: true),
                Write(RequestArea + page, (byte)(0xC0 + vcpu), AccessIntent.Private),
                Check(SharedArea + page, (byte)(0xA0 + vcpu), AccessIntent.Private),
                Check(PrivateArea + page, (byte)(0xB0 + vcpu), AccessIntent.Shared),
                Check(RequestArea + page, (byte)(0xC0 + vcpu), AccessIntent.Private),
                Report(100 + vcpu),
                Halt());
            await clients.Vcpus.LoadGuestProgramAsync(new LoadGuestProgramRequest { Name = $"{vm.Name}/vcpus/{vcpu}", Program = program }, cancellationToken: ct);
        }

        await using var watcher = Watcher.Start(clients, vm.Name);
        for (uint vcpu = 0; vcpu < 2; vcpu++)
        {
            await clients.Vcpus.StartVcpuAsync(new StartVcpuRequest { Name = $"{vm.Name}/vcpus/{vcpu}" }, cancellationToken: ct);
        }

        var seen = await ResolveEveryFaultUntilHaltedAsync(clients, watcher, vm.Name, vcpus: 2);

        for (uint vcpu = 0; vcpu < 2; vcpu++)
        {
            var page = vcpu * Page;
            var requests = seen.Where(e => e.PayloadCase is Event.PayloadOneofCase.MemoryFault or Event.PayloadOneofCase.ConversionRequested && VcpuOf(e) == vcpu)
                .Select(Describe).ToList();
            Assert.Equal(
                [
                    $"fault gpa={SharedArea + page:x} size=4096 private=True flags=8",
                    $"fault gpa={PrivateArea + page:x} size=4096 private=False flags=0",
                    $"request gpa={RequestArea + page:x} size=4096 to_private=True",
                ],
                requests);
            var vcpuState = (await clients.Vcpus.GetVcpuAsync(new GetVcpuRequest { Name = $"{vm.Name}/vcpus/{vcpu}" }, cancellationToken: ct)).Vcpu;
            Assert.Equal(VcpuState.Halted, vcpuState.State);
            Assert.Contains(seen, e => e.GuestReport is { } r && r.Vcpu == vcpu && r.Value == 100 + vcpu);
        }

        Assert.Equal(Enumerable.Range(1, seen.Count).Select(i => (ulong)i), seen.Select(e => e.Sequence));
        var attributes = await clients.Memory.GetMemoryAttributesAsync(new GetMemoryAttributesRequest { Vm = vm.Name, Gpa = 0, Size = 64 * MiB }, cancellationToken: ct);
        Assert.Equal(
            [
                "0-2000 shared",
                "2000-1002000 private",
                "1002000-1100000 shared",
                "1100000-1102000 private",
                "1102000-4000000 shared",
            ],
            attributes.Ranges.Select(r => $"{r.Gpa:x}-{r.Gpa + r.Size:x} {(r.Attributes.Contains(MemoryAttribute.Private) ? "private" : "shared")}"));

        // A watcher that comes later and starts from 1 reads the same journal.
        await using var late = Watcher.Start(clients, vm.Name);
        var replay = new List<Event>();
        while (replay.Count < seen.Count)
        {
            replay.Add(await late.NextAsync());
        }

        Assert.Equal(seen, replay);
    }

    /// <summary>Resolves every fault and conversion request with CONVERT until each vCPU halts; returns every event seen.</summary>
    internal static async Task<List<Event>> ResolveEveryFaultUntilHaltedAsync(Clients clients, Watcher watcher, string vm, int vcpus)
    {
        var seen = new List<Event>();
        var halted = 0;
        while (halted < vcpus)
        {
            var evt = await watcher.NextAsync();
            seen.Add(evt);
            var faultId = evt.MemoryFault?.FaultId ?? evt.ConversionRequested?.FaultId ?? 0;
            if (faultId != 0)
            {
                await clients.Events.ResolveFaultAsync(
                    new ResolveFaultRequest { Vm = vm, FaultId = faultId, Action = FaultAction.Convert }, cancellationToken: TestContext.Current.CancellationToken);
            }

            if (evt.VcpuStateChanged is { } change)
            {
                Assert.NotEqual(VcpuState.Failed, change.State);
                halted += change.State == VcpuState.Halted ? 1 : 0;
            }
        }

        return seen;
    }

    private static uint VcpuOf(Event e) => e.MemoryFault?.Vcpu ?? e.ConversionRequested.Vcpu;

    private static string Describe(Event e) => e.PayloadCase == Event.PayloadOneofCase.MemoryFault
        ? $"fault gpa={e.MemoryFault.Gpa:x} size={e.MemoryFault.Size} private={e.MemoryFault.Private} flags={e.MemoryFault.Flags}"
        : $"request gpa={e.ConversionRequested.Gpa:x} size={e.ConversionRequested.Size} to_private={e.ConversionRequested.ToPrivate}";
}
