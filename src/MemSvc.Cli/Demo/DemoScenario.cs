using MemSvc.Cli.Commands;
using MemSvc.Cli.Infrastructure;
using MemSvc.Cli.Output;
using MemSvc.Cli.Parsing;
using MemSvc.Client;
using MemSvc.Client.Errors;
using MemSvc.Client.Events;
using MemSvc.Contracts.V1;

namespace MemSvc.Cli.Demo;

/// <summary>The main flow of MemSvc, narrated step by step against a running server (memsvcctl demo).</summary>
internal sealed class DemoScenario(CliContext context, DemoSettings settings)
{
    public const int Steps = 11;

    private readonly MemSvcClient _client = context.Client;
    private readonly Narrator _narrator = new(context.Out, Steps, context.Color);

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        _narrator.Step("Asking the host what it can do");
        var host = await _client.Host.GetInfoAsync(cancellationToken).ConfigureAwait(false);
        _narrator.Detail($"server {host.ServerVersion}, backends: {string.Join(", ", host.Backends.Select(b => EnumWords.Kebab(b.Backend)))}, default {EnumWords.Kebab(host.DefaultBackend)}");

        _narrator.Step($"Creating an sw-protected VM on the {EnumWords.Word(EnumWords.Backends, settings.Backend)} backend with {DemoPlan.VcpuCount} vCPUs and the orchestrator fault policy");
        var vm = await _client.Vms.CreateAsync(new CreateVmRequest
        {
            VmId = settings.VmId ?? string.Empty,
            Backend = settings.Backend,
            VmType = VmType.SwProtected,
            VcpuCount = DemoPlan.VcpuCount,
            FaultPolicy = FaultPolicy.Orchestrator,
            TimeoutFallback = FaultAction.Fail,
        }, cancellationToken).ConfigureAwait(false);
        _narrator.Detail($"{vm.Name} (owner {vm.Owner}, state {EnumWords.Kebab(vm.State)})");

        var deleted = false;
        try
        {
            await SetUpMemoryAsync(vm.Name, cancellationToken).ConfigureAwait(false);
            var events = await new DemoRun(_client, _narrator, vm.Name, settings.Timeout).RunAsync(cancellationToken).ConfigureAwait(false);
            await ShowHostViewAsync(vm.Name, cancellationToken).ConfigureAwait(false);
            await ReplayAsync(vm.Name, events, cancellationToken).ConfigureAwait(false);
            if (!settings.Keep)
            {
                _narrator.Step($"Deleting {vm.Name}");
                await _client.Vms.DeleteAsync(vm.Name, cancellationToken).ConfigureAwait(false);
                deleted = true;
                _narrator.Detail("deleted");
            }
            else
            {
                _narrator.Step($"Keeping {vm.Name} (--keep): try memsvcctl vm get {ResourceNames.VmId(vm.Name)}");
            }
        }
        finally
        {
            if (!deleted && !settings.Keep)
            {
                // A failed demo leaves nothing behind; the failure itself is what the operator sees.
                await _client.Vms.DeleteAsync(vm.Name, CancellationToken.None).ConfigureAwait(false);
            }
        }

        context.Out.WriteLine("demo finished: every fault was resolved by conversion and every vCPU's data checks passed");
    }

    private async Task SetUpMemoryAsync(string vm, CancellationToken cancellationToken)
    {
        _narrator.Step($"Creating a {Units.Size(DemoPlan.GuestMemfdSize)} guest_memfd and binding two {Units.Size(DemoPlan.SlotSize)} memslots to it");
        var gmem = await _client.Memory.CreateGuestMemfdAsync(vm, DemoPlan.GuestMemfdSize, [], cancellationToken).ConfigureAwait(false);
        _narrator.Detail($"{gmem.Name}: {Units.Size(gmem.Size)}");
        for (uint slot = 0; slot < 2; slot++)
        {
            var request = new SetMemoryRegionRequest
            {
                Parent = vm,
                Slot = slot,
                Gpa = slot * DemoPlan.SlotSize,
                Size = DemoPlan.SlotSize,
                GuestMemfd = gmem.Name,
                GuestMemfdOffset = slot * DemoPlan.SlotSize,
                SharedBacking = SharedBacking.Anonymous,
            };
            request.Flags.Add(MemoryRegionFlag.GuestMemfd);
            var region = await _client.Memory.SetMemoryRegionAsync(request, cancellationToken).ConfigureAwait(false);
            _narrator.Detail($"slot {region.Slot}: {Units.Gpa(region.Gpa)}-{Units.Gpa(region.Gpa + region.Size)} -> {region.GuestMemfd} at offset {Units.Hex(region.GuestMemfdOffset)}");
        }

        _narrator.Step($"Marking the first {Units.Size(DemoPlan.PrivateSize)} private");
        await _client.Memory.SetMemoryAttributesAsync(vm, 0, DemoPlan.PrivateSize, isPrivate: true, cancellationToken).ConfigureAwait(false);
        var slots = await MemoryMapView.LoadAsync(_client, vm, cancellationToken).ConfigureAwait(false);
        _narrator.Detail(MemoryMap.Render(vm, slots, MemoryMap.DefaultWidth, context.Color));

        _narrator.Step("Loading a guest program on each vCPU");
        for (uint vcpu = 0; vcpu < DemoPlan.VcpuCount; vcpu++)
        {
            var loaded = await _client.Vcpus.LoadProgramAsync(vm, vcpu, DemoPlan.Program(vcpu), cancellationToken).ConfigureAwait(false);
            _narrator.Detail($"vcpu {vcpu} ({EnumWords.Kebab(loaded.State)}): {DemoPlan.ProgramText(vcpu)}");
        }
    }

    private async Task ShowHostViewAsync(string vm, CancellationToken cancellationToken)
    {
        _narrator.Step("Looking at the memory from the host");
        var shared = DemoPlan.PrivatePageWrittenShared(0);
        var bytes = await _client.Memory.ReadGuestMemoryAsync(vm, shared, 16, cancellationToken).ConfigureAwait(false);
        _narrator.Detail($"vcpu 0's page that became shared, as the host reads it:\n{MemCommands.HexDump(shared, bytes)}");
        var hidden = DemoPlan.SharedPageWrittenPrivately(0);
        try
        {
            await _client.Memory.ReadGuestMemoryAsync(vm, hidden, 16, cancellationToken).ConfigureAwait(false);
            throw new CheckFailedException($"the host could read private memory at {Units.Gpa(hidden)}");
        }
        catch (MemSvcException e) when (e.Reason is not null)
        {
            _narrator.Detail($"vcpu 0's page that became private is refused to the host: {e.Reason}");
        }

        var slots = await MemoryMapView.LoadAsync(_client, vm, cancellationToken).ConfigureAwait(false);
        _narrator.Detail(MemoryMap.Render(vm, slots, MemoryMap.DefaultWidth, context.Color));
    }

    private async Task ReplayAsync(string vm, IReadOnlyList<Event> seen, CancellationToken cancellationToken)
    {
        _narrator.Step($"Starting a second watcher from sequence 1: it must see the same {seen.Count} events");
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(settings.Timeout);
        var replay = new List<Event>(seen.Count);
        try
        {
            await foreach (var e in _client.Events.WatchAsync(new WatchOptions { Vm = vm, StartSequence = 1 }, timeout.Token).ConfigureAwait(false))
            {
                replay.Add(e);
                if (replay.Count == seen.Count)
                {
                    break;
                }
            }
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new CheckFailedException($"the second watcher saw only {replay.Count} of {seen.Count} events within {settings.Timeout}");
        }

        var differing = seen.Zip(replay).Count(p => !p.First.Equals(p.Second));
        if (replay.Count != seen.Count || differing > 0)
        {
            throw new CheckFailedException($"the second watcher saw {replay.Count} events, {differing} of them different");
        }

        _narrator.Detail($"identical: sequences #{replay[0].Sequence} to #{replay[^1].Sequence}, same payloads");
    }
}
