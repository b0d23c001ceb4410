using System.Runtime.CompilerServices;
using MemSvc.Client.Events;
using MemSvc.Client.Resilience;
using MemSvc.Contracts.V1;

namespace MemSvc.Client.Api;

/// <summary>EventService: resumable event watches and fault resolution.</summary>
public sealed class EventApi
{
    // The server's largest page: an orchestrator lists every VM at each (re)connect, in as few calls as it can.
    private const int MaxPageSize = 1000;

    private readonly EventService.EventServiceClient _stub;
    private readonly UnaryInvoker _invoker;
    private readonly ResumableWatch _watch;
    private readonly VmApi _vms;

    internal EventApi(EventService.EventServiceClient stub, UnaryInvoker invoker, MemSvcClientOptions options, VmApi vms)
    {
        _stub = stub;
        _invoker = invoker;
        _vms = vms;
        _watch = new ResumableWatch(stub, options);
    }

    /// <summary>
    /// Streams events until cancelled, reconnecting by itself from the last sequence delivered, so every event
    /// arrives exactly once across dropped connections and server restarts of the stream. Throws
    /// <see cref="Errors.EventsCompactedException"/> when the events it needs next were compacted away.
    /// </summary>
    public IAsyncEnumerable<Event> WatchAsync(WatchOptions watch, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(watch);
        return EventsOf(Watch(watch, beginEachConnect: false, cancellationToken), cancellationToken);
    }

    /// <summary>
    /// Events and ended VMs of <paramref name="watch"/>, beginning at its positions, or at positions pinned now
    /// (each VM's uid, and its start or "now").
    /// </summary>
    internal IAsyncEnumerable<WatchEventsResponse> Watch(WatchOptions watch, bool beginEachConnect, CancellationToken cancellationToken) =>
        Watch(watch, ct => Begin(watch, ct), beginEachConnect, cancellationToken);

    internal IAsyncEnumerable<WatchEventsResponse> Watch(
        WatchOptions watch, Func<CancellationToken, Task<WatchPositions>> begin, bool beginEachConnect, CancellationToken cancellationToken) =>
        _watch.RunAsync(watch, begin, beginEachConnect, cancellationToken);

    private static async IAsyncEnumerable<Event> EventsOf(IAsyncEnumerable<WatchEventsResponse> items, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await foreach (var item in items.WithCancellation(cancellationToken).ConfigureAwait(false))
        {
            if (item.Event is { } e)
            {
                yield return e;
            }
        }
    }

    private async Task<WatchPositions> Begin(WatchOptions watch, CancellationToken cancellationToken) =>
        watch.Positions is { } listed
            ? WatchPositions.From(listed)
            : await WatchPositions.BeginAsync(
                watch.StartSequence, ct => LastSequencesAsync(_vms, watch.Vm is null ? null : ResourceNames.Vm(watch.Vm), ct), cancellationToken).ConfigureAwait(false);

    private static async Task<IReadOnlyDictionary<string, (string Uid, ulong Last)>> LastSequencesAsync(VmApi vms, string? vm, CancellationToken cancellationToken)
    {
        if (vm is not null)
        {
            var one = await vms.GetAsync(vm, cancellationToken).ConfigureAwait(false);
            return new Dictionary<string, (string, ulong)>(StringComparer.Ordinal) { [one.Name] = (one.Uid, one.LastEventSequence) };
        }

        return await vms.ListAsync(cancellationToken).ToDictionaryAsync(v => v.Name, v => (v.Uid, v.LastEventSequence), StringComparer.Ordinal, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// The faults vCPUs wait on, of <paramref name="vm"/> or (null) of every VM the caller may see, every page, and
    /// the position each VM's watch continues from: list, then watch from <see cref="PendingFaultList.Positions"/>.
    /// </summary>
    public async Task<PendingFaultList> ListPendingFaultsAsync(string? vm = null, CancellationToken cancellationToken = default)
    {
        var faults = new List<PendingFault>();
        var positions = new List<VmEventPosition>();
        var request = new ListPendingFaultsRequest { Vm = vm is null ? string.Empty : ResourceNames.Vm(vm), PageSize = MaxPageSize };
        do
        {
            var page = await _invoker.InvokeAsync(Kind(nameof(EventService.EventServiceClient.ListPendingFaults)), o => _stub.ListPendingFaultsAsync(request, o), cancellationToken).ConfigureAwait(false);
            faults.AddRange(page.PendingFaults);
            positions.AddRange(page.Positions);
            request = request.Clone();
            request.PageToken = page.NextPageToken;
        }
        while (request.PageToken.Length > 0);

        return new PendingFaultList(faults, positions);
    }

    /// <summary>Resolves a fault a vCPU waits on. Never retried: a repeat would find the fault already resolved.</summary>
    public Task<ResolveFaultResponse> ResolveFaultAsync(string vm, ulong faultId, FaultAction action, CancellationToken cancellationToken = default) =>
        ResolveFaultAsync(vm, string.Empty, faultId, action, cancellationToken);

    /// <summary>
    /// Resolves a fault of the VM incarnation <paramref name="vmUid"/> (its event's vm_uid): a VM of that name that
    /// is another incarnation fails with <see cref="Errors.VmReplacedException"/> instead of having its own fault of
    /// that id resolved. Never retried.
    /// </summary>
    public Task<ResolveFaultResponse> ResolveFaultAsync(string vm, string vmUid, ulong faultId, FaultAction action, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(vmUid);
        var request = new ResolveFaultRequest { Vm = ResourceNames.Vm(vm), VmUid = vmUid, FaultId = faultId, Action = action };
        return _invoker.InvokeAsync(Kind(nameof(EventService.EventServiceClient.ResolveFault)), o => _stub.ResolveFaultAsync(request, o), cancellationToken);
    }

    private static CallKind Kind(string method) => CallKinds.Of(EventService.Descriptor, method);
}
