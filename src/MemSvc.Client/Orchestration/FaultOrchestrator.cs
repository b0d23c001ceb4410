using MemSvc.Contracts.V1;
using Microsoft.Extensions.Logging;

namespace MemSvc.Client.Orchestration;

/// <summary>
/// Resolves faults of ORCHESTRATOR VMs: of every VM the caller may see (VMs created later included), on one
/// stream, or of one VM. On start and on every reconnect it lists the faults pending then watches from the
/// listing's positions (list, then watch), so a restart of the orchestrator or of the daemon, or a journal
/// compacted while it was away, loses nothing and repeats nothing. Each fault goes to the registered handler
/// (CONVERT / RETRY / FAIL) once per run, with at most <see cref="MaxConcurrency"/> handlers and resolutions in
/// flight, and ends in exactly one <see cref="FaultOutcome"/>: a fault resolved, timed out or deleted elsewhere
/// first is reported as such and not retried; a handler that throws leaves its fault to the VM's fallback, and
/// is logged and counted.
/// </summary>
public sealed class FaultOrchestrator
{
    private readonly MemSvcClient _client;
    private readonly string? _vm;
    private readonly OrchestratorCounters _counters = new();
    private ILogger? _logger;
    private Func<FaultContext, CancellationToken, ValueTask<FaultAction>> _onMemoryFault = (_, _) => ValueTask.FromResult(FaultAction.Convert);
    private Func<FaultContext, CancellationToken, ValueTask<FaultAction>> _onConversionRequest = (_, _) => ValueTask.FromResult(FaultAction.Convert);

    /// <summary>An orchestrator for every VM the caller may see, now and later.</summary>
    public FaultOrchestrator(MemSvcClient client)
    {
        ArgumentNullException.ThrowIfNull(client);
        _client = client;
    }

    /// <summary>
    /// An orchestrator for one VM (id or <c>vms/{vm}</c>), which ends with the VM's NOT_FOUND once no VM has its
    /// name; null: every VM, as <see cref="FaultOrchestrator(MemSvcClient)"/>.
    /// </summary>
    public FaultOrchestrator(MemSvcClient client, string? vm)
        : this(client)
    {
        _vm = vm is null ? null : ResourceNames.Vm(vm);
    }

    /// <summary>Most faults with the handler or ResolveFault at once; further faults wait (the stream is not read meanwhile).</summary>
    public int MaxConcurrency { get; init; } = 8;

    /// <summary>Told once for each fault handed to the handler, how it ended; called from several resolutions at once.</summary>
    public Action<FaultOutcome>? OnResolved { get; init; }

    /// <summary>Told when a VM incarnation the orchestrator served ended (deleted, or replaced by another VM of its name).</summary>
    public Action<VmEnded>? OnVmEnded { get; init; }

    /// <summary>Passed on to the watch: told when its stream is lost; the orchestrator lists again before it reconnects.</summary>
    public Action<Events.WatchReconnect>? OnReconnecting { get; init; }

    /// <summary>
    /// Where handler failures, refused resolutions, listings and ended VMs are logged; unless set, a logger of the
    /// client's <see cref="MemSvcClientOptions.LoggerFactory"/> (category MemSvc.Client.Orchestration.FaultOrchestrator).
    /// </summary>
    public ILogger Logger
    {
        get => _logger ??= _client.Options.LoggerFactory.CreateLogger<FaultOrchestrator>();
        init => _logger = value;
    }

    /// <summary>Counts by outcome since this orchestrator was made (also on the "MemSvc.Client" meter).</summary>
    public FaultOrchestratorCounts Counts => _counters.Snapshot();

    /// <summary>Decides memory faults (KVM_EXIT_MEMORY_FAULT); without a handler they are converted.</summary>
    public FaultOrchestrator OnMemoryFault(Func<FaultContext, CancellationToken, ValueTask<FaultAction>> handler)
    {
        ArgumentNullException.ThrowIfNull(handler);
        _onMemoryFault = handler;
        return this;
    }

    /// <summary>Decides the guest's conversion requests (KVM_HC_MAP_GPA_RANGE); without a handler they are converted.</summary>
    public FaultOrchestrator OnConversionRequest(Func<FaultContext, CancellationToken, ValueTask<FaultAction>> handler)
    {
        ArgumentNullException.ThrowIfNull(handler);
        _onConversionRequest = handler;
        return this;
    }

    /// <summary>
    /// Resolves faults until <paramref name="cancellationToken"/> is cancelled (then completes without throwing;
    /// handlers still deciding are cancelled and their faults stay pending, for the next run or the fallback).
    /// Lost streams and an unreachable server are waited out; what the server refuses for good (the one VM
    /// deleted, permissions) is thrown, after the resolutions in flight end.
    /// </summary>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        if (MaxConcurrency < 1)
        {
            throw new InvalidOperationException("MaxConcurrency must be at least 1.");
        }

        await using var run = new OrchestratorRun(this, _client, _vm, _counters, cancellationToken);
        await run.RunAsync().ConfigureAwait(false);
    }

    internal ValueTask<FaultAction> DecideAsync(FaultContext fault, CancellationToken cancellationToken) =>
        fault.IsConversionRequest ? _onConversionRequest(fault, cancellationToken) : _onMemoryFault(fault, cancellationToken);
}
